using System.Net.Http.Headers;

namespace Strata.Registry;

/// <summary>A WWW-Authenticate challenge: Basic realm=..., or Bearer realm=...,service=...,scope=...</summary>
internal sealed record AuthChallenge(string Scheme, string? Realm, string? Service, string? Scope)
{
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);
    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public static AuthChallenge? From(HttpResponseMessage response)
    {
        foreach (var h in response.Headers.WwwAuthenticate)
            if (Parse(h) is { } c && (c.IsBearer || c.IsBasic)) return c;
        return null;
    }

    public static AuthChallenge? Parse(AuthenticationHeaderValue header)
    {
        var p = ParseParameters(header.Parameter ?? "");
        return new AuthChallenge(header.Scheme, p.GetValueOrDefault("realm"), p.GetValueOrDefault("service"), p.GetValueOrDefault("scope"));
    }

    /// <summary>key="value" pairs split on commas outside quotes (a scope's "pull,push" sits inside them).</summary>
    internal static Dictionary<string, string> ParseParameters(string s)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && (s[i] == ',' || char.IsWhiteSpace(s[i]))) i++;
            int eq = s.IndexOf('=', i);
            if (eq < 0) break;
            var key = s[i..eq].Trim();
            i = eq + 1;
            var value = new System.Text.StringBuilder();
            if (i < s.Length && s[i] == '"')
            {
                for (i++; i < s.Length && s[i] != '"'; i++)
                {
                    if (s[i] == '\\' && i + 1 < s.Length) i++;
                    value.Append(s[i]);
                }
                i++;
            }
            else
            {
                while (i < s.Length && s[i] != ',') value.Append(s[i++]);
            }
            result[key] = value.ToString().Trim();
        }
        return result;
    }
}
