using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Strata.Tests.Infrastructure.Registry;

/// <summary>
/// A docker token service: GET /token?service=S&amp;scope=repository:NAME:pull,push with Basic credentials answers a
/// JWT (RS256, the signing certificate in x5c, which the registry trusts through its rootcertbundle). Valid
/// credentials get every action asked for; anonymous requests get a token granting nothing; wrong ones get 401.
/// </summary>
public sealed class TokenServer : IAsyncDisposable
{
    private readonly LoopbackHttpServer _server;
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _cert;
    private readonly string _user, _password;
    private int _issued;

    private TokenServer(string user, string password, string service, string certPath)
    {
        _user = user;
        _password = password;
        Service = service;
        var request = new CertificateRequest("CN=strata-test-token-issuer", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(certPath, _cert.ExportCertificatePem());
        CertificatePath = certPath;
        _server = LoopbackHttpServer.Start(AnswerAsync);
        Realm = $"http://{_server.Host}/token";
    }

    public string Realm { get; }
    public string Service { get; }
    public string Issuer => "strata-test-issuer";
    public string CertificatePath { get; }
    public int ExpiresIn { get; set; } = 300;

    /// <summary>Every token request's scopes, as asked ("" when none), refused ones included.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Tokens handed out (anonymous ones included); refused requests do not count.</summary>
    public int TokensIssued => Volatile.Read(ref _issued);

    public static TokenServer Start(string user, string password, string service, string certPath) => new(user, password, service, certPath);

    private async Task AnswerAsync(HttpContext ctx)
    {
        var response = ctx.Response;
        var scopes = ctx.Request.Query["scope"].OfType<string>().ToArray();
        Requests.Enqueue(string.Join(" ", scopes));
        bool authenticated = false;
        if (ctx.Request.Headers.Authorization.ToString() is var header && header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            if (DecodeBasic(header[6..]) != $"{_user}:{_password}")
            {
                response.StatusCode = 401;
                return;
            }
            authenticated = true;
        }
        var access = new List<object>();
        if (authenticated)
        {
            foreach (var scope in scopes.SelectMany(s => s.Split(' ')))
            {
                // repository:NAME:actions; NAME may hold a host:port, so split at the first and last colon.
                int first = scope.IndexOf(':', StringComparison.Ordinal), last = scope.LastIndexOf(':');
                if (first < 0 || last <= first) continue;
                access.Add(new Dictionary<string, object> { ["type"] = scope[..first], ["name"] = scope[(first + 1)..last], ["actions"] = scope[(last + 1)..].Split(',') });
            }
        }
        var token = Jwt(authenticated ? _user : "", ctx.Request.Query["service"].FirstOrDefault() ?? Service, access);
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["token"] = token,
            ["access_token"] = token,
            ["expires_in"] = ExpiresIn,
            ["issued_at"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        });
        Interlocked.Increment(ref _issued);
        response.ContentType = "application/json";
        await response.Body.WriteAsync(body, ctx.RequestAborted);
    }

    // Garbage in the header is wrong credentials, not an exception.
    private static string? DecodeBasic(string value)
    {
        try { return Encoding.UTF8.GetString(Convert.FromBase64String(value.Trim())); }
        catch (FormatException) { return null; }
    }

    private string Jwt(string subject, string audience, List<object> access)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["typ"] = "JWT",
            ["alg"] = "RS256",
            ["x5c"] = new[] { Convert.ToBase64String(_cert.RawData) },
        });
        var claims = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = subject,
            ["aud"] = audience,
            ["exp"] = now + ExpiresIn,
            ["nbf"] = now - 10,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        });
        var signingInput = B64(header) + "." + B64(claims);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + B64(signature);
    }

    private static string B64(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _key.Dispose();
        _cert.Dispose();
    }
}
