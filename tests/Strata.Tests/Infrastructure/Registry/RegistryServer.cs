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

    // No registry may outlive the test run. A watcher waits for the end of the registry's stdin, a pipe only this
    // process holds, then kills it: when the test host ends, however it ends (a crash or SIGKILL, where ProcessExit
    // never runs), the kernel closes the pipe. Dispose closes it the same way. sh execs the registry, so the child
    // process is the registry itself and its early exit shows at once; the watcher checks that the pid still runs
    // this config (unique per server) before it kills, as pids are reused. dash gives a background job /dev/null
    // as stdin, hence fd 3.
    private const string Watchdog = "exec 3<&0; { cat <&3 >/dev/null; grep -qsF \"$0\" /proc/$$/cmdline && kill -9 $$; } >/dev/null 2>&1 & "
        + "exec /usr/bin/docker-registry serve \"$0\" 3<&-";

    private readonly Process _process;
    private readonly TempDir _dir;
    private readonly StringBuilder _log = new();
    private bool _disposed;

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
    public string ConfigPath => _dir.Combine("config.yml");
    /// <summary>The registry's stdout and stderr so far.</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>A running registry: GET /v2/ answers. Skips (fails under CI=true) without docker-registry.</summary>
    /// <param name="tls">Serve HTTPS with a fresh self-signed certificate for 127.0.0.1 (no client trusts it).</param>
    public static async Task<RegistryServer> StartAsync(RegistryAuth auth = RegistryAuth.None, bool tls = false)
    {
        Requires.Tool("docker-registry");
        if (auth == RegistryAuth.Basic) Requires.Tool("htpasswd");
        for (int attempt = 1; ; attempt++)
        {
            var server = Launch(auth, tls);
            try
            {
                await server.WaitReadyAsync();
                return server;
            }
            // The free port is free only until it is bound: another test may take it first.
            catch (InvalidOperationException) when (attempt < 3 && server.Log.Contains("address already in use", StringComparison.Ordinal)) { }
        }
    }

    private static RegistryServer Launch(RegistryAuth auth, bool tls)
    {
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
        var psi = new ProcessStartInfo("/bin/sh", ["-c", Watchdog, dir.Combine("config.yml")])
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var process = Process.Start(psi)!;
        var server = new RegistryServer(process, dir, port, auth, tokens) { Tls = tls };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
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

    /// <summary>skopeo copies an image (e.g. <see cref="SampleImage.OciReference"/>) to REPOSITORY[:TAG] here, or
    /// through <paramref name="via"/> (a <see cref="FaultProxy"/>'s host), with this registry's credentials.</summary>
    public void CopyIn(string source, string repository, string? via = null)
    {
        Requires.Tool("skopeo");
        var args = new List<string> { "copy", "-q", "--dest-tls-verify=false" };
        if (Auth != RegistryAuth.None) args.Add($"--dest-creds={Creds}");
        Tool.Run("skopeo", [.. args, source, $"docker://{via ?? Host}/{repository}"]);
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        _process.StandardInput.Close(); // the watcher kills the registry
        try { await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)); }
        catch (TimeoutException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (Tokens is not null) await Tokens.DisposeAsync();
        _dir.Dispose();
    }
}
