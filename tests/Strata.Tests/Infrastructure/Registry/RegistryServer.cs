using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Strata.Tests.Infrastructure.Registry;

public enum RegistryAuth
{
    None,
    Basic,
    Token,
}

/// <summary>
/// Debian's docker-registry (distribution 2.8) on 127.0.0.1 and a free port, storage in a temp dir: anonymous,
/// htpasswd Basic auth, or token auth against an in-process <see cref="TokenServer"/>. Killed on dispose.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    public const string User = "strata";
    public const string Password = "s3cret-pass";

    private static readonly List<Process> Running = [];
    private readonly Process _process;
    private readonly TempDir _dir;
    private readonly StringBuilder _log = new();

    static RegistryServer()
    {
        // No registry may outlive the test run, whatever happens to the tests.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Running) foreach (var p in Running) try { p.Kill(); } catch (InvalidOperationException) { }
        };
    }

    private RegistryServer(Process process, TempDir dir, int port, RegistryAuth auth, TokenServer? tokens)
    {
        _process = process;
        _dir = dir;
        Host = $"127.0.0.1:{port}";
        Auth = auth;
        Tokens = tokens;
    }

    public string Host { get; }
    public RegistryAuth Auth { get; }
    public bool Tls { get; private init; }
    public TokenServer? Tokens { get; }
    public string DataDirectory => _dir.Combine("data");
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <param name="tls">Serve HTTPS with a fresh self-signed certificate for 127.0.0.1 (no client trusts it).</param>
    public static async Task<RegistryServer> StartAsync(RegistryAuth auth = RegistryAuth.None, bool tls = false)
    {
        Requires.Tool("docker-registry");
        var dir = new TempDir("registry");
        int port = FreePort();
        var config = new StringBuilder($$"""
            version: 0.1
            log: {level: info, formatter: text}
            storage:
              cache: {blobdescriptor: inmemory}
              filesystem: {rootdirectory: {{dir.Combine("data")}}}
              delete: {enabled: true}
            http:
              addr: 127.0.0.1:{{port}}
            """);
        if (tls)
        {
            using var key = System.Security.Cryptography.RSA.Create(2048);
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key,
                System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllText(dir.Combine("tls.crt"), cert.ExportCertificatePem());
            File.WriteAllText(dir.Combine("tls.key"), key.ExportPkcs8PrivateKeyPem());
            config.Append($$"""

                  tls: {certificate: {{dir.Combine("tls.crt")}}, key: {{dir.Combine("tls.key")}}}
                """);
        }
        TokenServer? tokens = null;
        if (auth == RegistryAuth.Basic)
        {
            var htpasswd = dir.Combine("htpasswd");
            Tool.Run("htpasswd", "-Bbc", htpasswd, User, Password);
            config.Append($$"""

                auth:
                  htpasswd: {realm: basic-realm, path: {{htpasswd}}}
                """);
        }
        else if (auth == RegistryAuth.Token)
        {
            tokens = TokenServer.Start(User, Password, "strata-test-registry", dir.Combine("token-cert.pem"));
            config.Append($$"""

                auth:
                  token:
                    realm: {{tokens.Realm}}
                    service: {{tokens.Service}}
                    issuer: {{tokens.Issuer}}
                    rootcertbundle: {{tokens.CertificatePath}}
                """);
        }
        File.WriteAllText(dir.Combine("config.yml"), config.ToString());
        var psi = new ProcessStartInfo("/usr/bin/docker-registry", ["serve", dir.Combine("config.yml")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var process = Process.Start(psi)!;
        lock (Running) Running.Add(process);
        var server = new RegistryServer(process, dir, port, auth, tokens) { Tls = tls };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        await server.WaitReadyAsync();
        return server;
    }

    private async Task WaitReadyAsync()
    {
#pragma warning disable CA5359 // the test's own self-signed certificate
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
#pragma warning restore CA5359
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) break;
            try
            {
                using var r = await http.GetAsync(new Uri($"{(Tls ? "https" : "http")}://{Host}/v2/"));
                if (r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(50);
        }
        await DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not start on {Host}: {Log}");
    }

    /// <summary>A docker config.json holding this registry's credentials.</summary>
    public string WriteAuthFile(string path, string? host = null)
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        File.WriteAllText(path, "{\"auths\":{\"" + (host ?? Host) + "\":{\"auth\":\"" + auth + "\"}}}");
        return path;
    }

    public string Creds => $"{User}:{Password}";

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try { _process.Kill(); } catch (InvalidOperationException) { }
        await _process.WaitForExitAsync();
        lock (Running) Running.Remove(_process);
        _process.Dispose();
        if (Tokens is not null) await Tokens.DisposeAsync();
        _dir.Dispose();
    }
}
