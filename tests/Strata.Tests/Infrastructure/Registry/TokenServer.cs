using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Strata.Tests.Infrastructure.Registry;

/// <summary>
/// A docker token service: GET /token?service=S&amp;scope=repository:NAME:pull,push with Basic credentials answers a
/// JWT (RS256, the signing certificate in x5c, which the registry trusts through its rootcertbundle). Valid
/// credentials get every action asked for; anonymous requests get a token granting nothing; wrong ones get 401.
/// </summary>
public sealed class TokenServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _cert;
    private readonly string _user, _password;
    private readonly Task _loop;

    private TokenServer(string user, string password, string service, string certPath)
    {
        _user = user;
        _password = password;
        Service = service;
        var request = new CertificateRequest("CN=strata-test-token-issuer", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(certPath, _cert.ExportCertificatePem());
        CertificatePath = certPath;
        int port = RegistryServer.FreePort();
        Realm = $"http://127.0.0.1:{port}/token";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Realm { get; }
    public string Service { get; }
    public string Issuer => "strata-test-issuer";
    public string CertificatePath { get; }
    public int ExpiresIn { get; set; } = 300;

    /// <summary>Every token request's scopes, as asked ("" when none).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static TokenServer Start(string user, string password, string service, string certPath) => new(user, password, service, certPath);

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try { Answer(ctx); }
            catch (Exception e) when (e is HttpListenerException or IOException) { }
        }
    }

    private void Answer(HttpListenerContext ctx)
    {
        using var response = ctx.Response;
        var scopes = ctx.Request.QueryString.GetValues("scope") ?? [];
        Requests.Enqueue(string.Join(" ", scopes));
        bool authenticated = false;
        if (ctx.Request.Headers["Authorization"] is { } header && header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]));
            if (pair != $"{_user}:{_password}")
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
        var token = Jwt(authenticated ? _user : "", ctx.Request.QueryString["service"] ?? Service, access);
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["token"] = token,
            ["access_token"] = token,
            ["expires_in"] = ExpiresIn,
            ["issued_at"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        });
        response.ContentType = "application/json";
        response.OutputStream.Write(body);
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
        // The managed listener's Close looks its port up again after Stop and can trip over a port another test
        // took meanwhile: stopping is what matters here.
        try { _listener.Close(); }
        catch (HttpListenerException) { }
        await _loop;
        _key.Dispose();
        _cert.Dispose();
    }
}
