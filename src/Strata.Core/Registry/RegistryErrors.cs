using System.Net;
using System.Text.Json;
using Strata.Errors;

namespace Strata.Registry;

/// <summary>Turns a failed registry answer into one clear line: status, the distribution error codes, what was asked.</summary>
internal static class RegistryErrors
{
    public static async Task<StrataException> FromResponseAsync(HttpResponseMessage response, string registry, string what, CancellationToken cancellationToken)
    {
        string detail = "";
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            detail = Describe(body);
        }
        catch (Exception e) when (e is IOException or HttpRequestException) { }
        var status = response.StatusCode;
        var kind = status switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ErrorKind.PermissionDenied,
            HttpStatusCode.NotFound => ErrorKind.NotFound,
            HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError => ErrorKind.Unavailable,
            HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnsupportedMediaType => ErrorKind.Unsupported,
            _ => ErrorKind.InvalidContent,
        };
        var hint = status switch
        {
            HttpStatusCode.Unauthorized => ": authentication required (strata login, --creds or --authfile)",
            HttpStatusCode.Forbidden => ": access denied",
            HttpStatusCode.TooManyRequests => ": too many requests",
            _ => "",
        };
        return new StrataException(kind, $"{registry}: {what}: HTTP {(int)status}{hint}{(detail.Length > 0 ? ": " + detail : "")}");
    }

    /// <summary>{"errors":[{"code","message","detail"}]} as "CODE: message; ..."; any other body as its first line.</summary>
    public static string Describe(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return "";
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                var parts = new List<string>();
                foreach (var e in errors.EnumerateArray())
                {
                    var code = e.TryGetProperty("code", out var c) ? c.ToString() : "";
                    var message = e.TryGetProperty("message", out var m) ? m.ToString() : "";
                    parts.Add(message.Length > 0 ? $"{code}: {message}" : code);
                }
                return string.Join("; ", parts);
            }
        }
        catch (JsonException) { }
        var text = System.Text.Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)]);
        return text.Split('\n', 2)[0].Trim();
    }
}
