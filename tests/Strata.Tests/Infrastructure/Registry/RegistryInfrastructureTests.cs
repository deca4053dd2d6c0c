using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Strata.Tests.Infrastructure.Registry;

/// <summary>
/// Proves the registry fixtures: a registry that accepts what it should refuse, a token issuer that grants too much,
/// or a proxy that alters what it should pass would make every registry test meaningless.
/// </summary>
public class RegistryInfrastructureTests
{
    private const string Repository = "infra/busybox";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnonymousRegistryTakesAndGivesAnImageThroughTheProxy()
    {
        var sample = SampleImages.Get("busybox");
        await using var registry = await RegistryServer.StartAsync();
        await using var proxy = new FaultProxy(registry.Host);
        registry.CopyIn(sample.OciReference, Repository + ":1", via: proxy.Host);

        // The registry answers uploads with absolute Locations: the proxy must rewrite them, or the PUT would bypass it.
        Assert.Contains(proxy.Log, r => r.Method == "PUT" && r.Path.Contains("/blobs/uploads/", StringComparison.Ordinal) && r.Status == 201);
        Assert.Equal(0, proxy.BlobBytesServed);
        Assert.True(Directory.Exists(Path.Combine(registry.DataDirectory, "docker/registry/v2/repositories", Repository)));

        var manifest = Manifest(sample);
        Assert.Equal(manifest.Digest, (string?)JsonNode.Parse(Inspect(registry.Host, null).Stdout)!["Digest"]);

        using var tmp = new TempDir();
        Tool.Run("skopeo", "copy", "-q", "--src-tls-verify=false", $"docker://{proxy.Host}/{Repository}:1", $"oci:{tmp.Path}:x");
        Assert.Equal(manifest.LayerSize + manifest.ConfigSize, proxy.BlobBytesServed);
        Assert.Equal(1, proxy.Count(FaultProxy.BlobGet(manifest.Layer)));
    }

    [Fact]
    public async Task BasicAuthRegistryNeedsTheCredentials()
    {
        var sample = SampleImages.Get("busybox");
        await using var registry = await RegistryServer.StartAsync(RegistryAuth.Basic);
        using var http = new HttpClient();
        using var ping = await http.GetAsync(new Uri($"http://{registry.Host}/v2/"), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, ping.StatusCode);
        Assert.Equal("Basic", ping.Headers.WwwAuthenticate.Single().Scheme);

        registry.CopyIn(sample.OciReference, Repository + ":1");
        Inspect(registry.Host, registry.Creds);
        AssertRefused(Inspect(registry.Host, null, check: false));
        AssertRefused(Inspect(registry.Host, "strata:wrong", check: false));
        using var tmp = new TempDir();
        var authFile = registry.WriteAuthFile(tmp.Combine("auth.json"));
        Tool.Run("skopeo", "inspect", "--tls-verify=false", "--authfile", authFile, $"docker://{registry.Host}/{Repository}:1");
    }

    [Fact]
    public async Task TokenAuthRegistryTrustsTheIssuerWhichGrantsOnlyTheRightUser()
    {
        var sample = SampleImages.Get("busybox");
        await using var registry = await RegistryServer.StartAsync(RegistryAuth.Token);
        var tokens = registry.Tokens!;
        using var http = new HttpClient();
        using var ping = await http.GetAsync(new Uri($"http://{registry.Host}/v2/"), Ct);
        var challenge = ping.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains($"realm=\"{tokens.Realm}\"", challenge.Parameter, StringComparison.Ordinal);

        registry.CopyIn(sample.OciReference, Repository + ":1");
        Assert.Contains(tokens.Requests, r => r.Contains($"repository:{Repository}:pull,push", StringComparison.Ordinal));
        int issued = tokens.TokensIssued;
        Assert.True(issued > 0);
        Inspect(registry.Host, registry.Creds);
        Assert.True(tokens.TokensIssued > issued);
        // An anonymous token grants nothing, so the registry still refuses.
        AssertRefused(Inspect(registry.Host, null, check: false));
        await using (var proxy = new FaultProxy(registry.Host))
        {
            Inspect(proxy.Host, registry.Creds); // the Bearer token passes through the proxy
            AssertRefused(Inspect(proxy.Host, null, check: false));
            Assert.Contains(proxy.Log, r => r.Path.Contains("/manifests/1", StringComparison.Ordinal) && r.Status == 200);
        }

        var scope = $"scope=repository:{Repository}:pull";
        tokens.ExpiresIn = 120;
        using var granted = await Token(http, tokens, scope, registry.Creds);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        var body = JsonNode.Parse(await granted.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(120, (int)body["expires_in"]!);
        Assert.Equal((string?)body["token"], (string?)body["access_token"]);
        var parts = ((string)body["token"]!).Split('.');
        var header = JsonNode.Parse(Base64Url(parts[0]))!;
        Assert.Equal("RS256", (string?)header["alg"]);
        Assert.Single(header["x5c"]!.AsArray());
        var claims = JsonNode.Parse(Base64Url(parts[1]))!;
        Assert.Equal(120, (long)claims["exp"]! - (long)claims["iat"]!);
        Assert.Equal(tokens.Service, (string?)claims["aud"]);
        Assert.Equal("""[{"type":"repository","name":"infra/busybox","actions":["pull"]}]""", claims["access"]!.ToJsonString());

        int before = tokens.TokensIssued;
        using var wrong = await Token(http, tokens, scope, "strata:wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var garbage = new HttpRequestMessage(HttpMethod.Get, new Uri($"{tokens.Realm}?{scope}"));
        garbage.Headers.TryAddWithoutValidation("Authorization", "Basic %%%");
        using var refused = await http.SendAsync(garbage, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(before, tokens.TokensIssued);
        using var anonymous = await Token(http, tokens, scope, null);
        Assert.Equal("[]", JsonNode.Parse(Base64Url(((string)JsonNode.Parse(await anonymous.Content.ReadAsStringAsync(Ct))!["token"]!).Split('.')[1]))!["access"]!.ToJsonString());
    }

    [Fact]
    public async Task DisposeStopsTheRegistryAndRemovesItsFiles()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryAuth.Token); // disposed twice: a no-op
        var (config, port) = (registry.ConfigPath, int.Parse(registry.Host.Split(':')[1]));
        Assert.Single(CommandLinesNaming(config), c => c.StartsWith("/usr/bin/docker-registry\0serve", StringComparison.Ordinal));
        await registry.DisposeAsync();
        Assert.Empty(CommandLinesNaming(config)); // neither the registry nor its watcher
        Assert.False(File.Exists(config));
        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port, Ct).AsTask());
    }

    [Fact]
    public async Task StatusRuleAnswersWithoutUpstreamThenStopsFiring()
    {
        await using var f = await BlobFixture.StartAsync();
        f.Proxy.Add(new Fault.Status(500), FaultProxy.IsBlobGet);
        f.Proxy.Add(new Fault.Status(429, "1"), (m, p) => m == "HEAD", times: 2);

        using (var failed = await f.GetAsync())
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Equal("UNKNOWN", (string?)JsonNode.Parse(await failed.Content.ReadAsStringAsync(Ct))!["errors"]![0]!["code"]);
        }
        using (var passed = await f.GetAsync())
            Assert.Equal(f.Data, await passed.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync(Ct));
        for (int i = 0; i < 2; i++)
        {
            using var head = await f.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, f.BlobUri), Ct);
            Assert.Equal(HttpStatusCode.TooManyRequests, head.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), head.Headers.RetryAfter?.Delta);
        }
        using (var head = await f.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, f.BlobUri), Ct))
            Assert.Equal((long)f.Data.Length, head.EnsureSuccessStatusCode().Content.Headers.ContentLength);

        Assert.Equal(2, f.Proxy.Count(FaultProxy.BlobGet(f.Digest)));
        Assert.Equal(f.Data.Length, f.Proxy.BlobBytesServed);
        Assert.Contains($"GET /v2/{Repository}/blobs/{f.Digest} -> 500 (injected)", f.Proxy.Requests);
    }

    [Fact]
    public async Task DropAfterCutsTheConnectionMidBody()
    {
        await using var f = await BlobFixture.StartAsync();
        f.Proxy.Add(new Fault.DropAfter(100_000), FaultProxy.BlobGet(f.Digest));
        using var response = await f.GetAsync(HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(f.Data.Length, response.Content.Headers.ContentLength);
        var (received, error) = await ReadAsync(response);
        Assert.NotNull(error);
        Assert.Equal(100_000, received.Length);
        Assert.Equal(f.Data[..100_000], received);
        Assert.Equal(100_000, f.Proxy.BlobBytesServed);
        using var again = await f.GetAsync();
        Assert.Equal(f.Data, await again.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task TruncateAnnouncesTheFullLengthAndEndsEarly()
    {
        await using var f = await BlobFixture.StartAsync();
        f.Proxy.Add(new Fault.Truncate(12_345), FaultProxy.IsBlobGet);
        using var response = await f.GetAsync(HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(f.Data.Length, response.Content.Headers.ContentLength);
        Assert.True(response.Headers.ConnectionClose);
        var (received, error) = await ReadAsync(response);
        Assert.IsType<HttpIOException>(error);
        Assert.Equal(f.Data[..12_345], received);
    }

    [Fact]
    public async Task FlipByteChangesExactlyThatByte()
    {
        await using var f = await BlobFixture.StartAsync();
        f.Proxy.Add(new Fault.FlipByte(200_001), FaultProxy.IsBlobGet);
        using var response = await f.GetAsync();
        var body = await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync(Ct);
        Assert.NotEqual(f.Digest, Digest(body));
        var differing = Enumerable.Range(0, body.Length).Where(i => body[i] != f.Data[i]).ToList();
        Assert.Equal([200_001], differing);
        Assert.Equal((byte)(f.Data[200_001] ^ 0xff), body[200_001]);
    }

    [Fact]
    public async Task SlowThrottlesARangeRequest()
    {
        await using var f = await BlobFixture.StartAsync();
        f.Proxy.Add(new Fault.Slow(100_000), FaultProxy.IsBlobGet);
        using var request = new HttpRequestMessage(HttpMethod.Get, f.BlobUri);
        request.Headers.Range = new RangeHeaderValue(1000, 50_999);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await f.Http.SendAsync(request, Ct);
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.4), $"50 kB at 100 kB/s took {clock.Elapsed}");
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes 1000-50999/{f.Data.Length}", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(f.Data[1000..51_000], body);
        Assert.Equal(50_000, f.Proxy.BlobBytesServed);
        Assert.Contains(f.Proxy.Requests, r => r.StartsWith($"GET /v2/{Repository}/blobs/{f.Digest} [Range: bytes=1000-50999] -> 206 (Slow", StringComparison.Ordinal));
    }

    /// <summary>A registry holding one random blob, pushed through a proxy in front of it (POST, then PUT to the rewritten Location).</summary>
    private sealed class BlobFixture : IAsyncDisposable
    {
        private BlobFixture(RegistryServer registry)
        {
            Registry = registry;
            Proxy = new FaultProxy(registry.Host);
            Digest = RegistryInfrastructureTests.Digest(Data);
            BlobUri = new($"http://{Proxy.Host}/v2/{Repository}/blobs/{Digest}");
        }

        public RegistryServer Registry { get; }
        public FaultProxy Proxy { get; }
        public HttpClient Http { get; } = new();
        public byte[] Data { get; } = RandomNumberGenerator.GetBytes(300_000);
        public string Digest { get; }
        public Uri BlobUri { get; }

        public static async Task<BlobFixture> StartAsync()
        {
            var f = new BlobFixture(await RegistryServer.StartAsync());
            using var post = await f.Http.PostAsync(new Uri($"http://{f.Proxy.Host}/v2/{Repository}/blobs/uploads/"), null, Ct);
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
            var location = post.Headers.Location!;
            Assert.Equal(f.Proxy.Host, location.Authority);
            using var content = new ByteArrayContent(f.Data);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var put = await f.Http.PutAsync(new Uri($"{location}&digest={Uri.EscapeDataString(f.Digest)}"), content, Ct);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(f.Digest, put.Headers.GetValues("Docker-Content-Digest").Single());
            Assert.Equal(0, f.Proxy.BlobBytesServed);
            return f;
        }

        public Task<HttpResponseMessage> GetAsync(HttpCompletionOption option = HttpCompletionOption.ResponseContentRead) =>
            Http.GetAsync(BlobUri, option, Ct);

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await Proxy.DisposeAsync();
            await Registry.DisposeAsync();
        }
    }

    private sealed record ManifestFacts(string Digest, string Layer, long LayerSize, long ConfigSize);

    private static ManifestFacts Manifest(SampleImage sample)
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(sample.LayoutDir, "index.json")))!;
        var digest = (string)index["manifests"]![0]!["digest"]!;
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(sample.LayoutDir, "blobs", "sha256", digest[7..])))!;
        var layer = manifest["layers"]!.AsArray().Single()!;
        return new ManifestFacts(digest, (string)layer["digest"]!, (long)layer["size"]!, (long)manifest["config"]!["size"]!);
    }

    private static ToolResult Inspect(string host, string? creds, bool check = true) =>
        Tool.Run(new ToolCall("skopeo", ["inspect", "--tls-verify=false", creds is null ? "--no-creds" : $"--creds={creds}", $"docker://{host}/{Repository}:1"]) { Check = check });

    private static void AssertRefused(ToolResult result)
    {
        Assert.False(result.Succeeded, result.Stdout);
        Assert.Contains("unauthorized", result.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    private static Task<HttpResponseMessage> Token(HttpClient http, TokenServer tokens, string scope, string? creds)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{tokens.Realm}?service={tokens.Service}&{scope}"));
        if (creds is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(creds)));
        return http.SendAsync(request, Ct);
    }

    // The body read until the end or the error that ended it: a cut connection must fail the read, not look complete.
    private static async Task<(byte[] Bytes, Exception? Error)> ReadAsync(HttpResponseMessage response)
    {
        var received = new MemoryStream();
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(Ct);
            await stream.CopyToAsync(received, Ct);
            return (received.ToArray(), null);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return (received.ToArray(), e);
        }
    }

    private static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    private static string Base64Url(string s) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(s.Replace('-', '+').Replace('_', '/').PadRight(s.Length + (4 - s.Length % 4) % 4, '=')));

    private static List<string> CommandLinesNaming(string text) =>
        Directory.EnumerateDirectories("/proc")
            .Where(dir => Path.GetFileName(dir).All(char.IsAsciiDigit))
            .Select(dir =>
            {
                try { return File.ReadAllText(Path.Combine(dir, "cmdline")); }
                catch (IOException) { return ""; } // the process ended meanwhile
            })
            .Where(c => c.Contains(text, StringComparison.Ordinal))
            .ToList();
}
