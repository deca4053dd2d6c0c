using System.Diagnostics;
using System.Text.Json;
using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>
/// Pulls and pushes through a proxy that cuts connections, answers 500 and 429, flips bytes and crawls: they
/// resume or retry and succeed, or fail with one clear line and leave nothing unverified in the store. Its setup
/// (the kitchensink image in a registry behind a fault proxy) serves other tests of pulls in flight.
/// </summary>
public class RegistryFaultTests
{
    internal sealed class Setup : IAsyncDisposable
    {
        public required RegistryServer Registry { get; init; }
        public required FaultProxy Proxy { get; init; }
        public required TempDir Tmp { get; init; }
        public required string ExpectedId { get; init; }
        public required string BigLayer { get; init; }
        public required long BigLayerSize { get; init; }
        public string Reference => $"{Proxy.Host}/faults/kitchensink:1";

        public async ValueTask DisposeAsync()
        {
            await Proxy.DisposeAsync();
            await Registry.DisposeAsync();
            Tmp.Dispose();
        }
    }

    internal static async Task<Setup> StartAsync()
    {
        var registry = await RegistryServer.StartAsync();
        RegistryFixture.Seed(registry, "kitchensink", "faults/kitchensink:1");
        var tmp = new TempDir();
        var id = RegistryFixture.Id(StrataCli.Run(tmp.CreateDirectory("loaded"), "load", "-q", "-i", SampleImages.Get("kitchensink").LayoutDir));
        using var manifest = JsonDocument.Parse(Tool.Run("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{registry.Host}/faults/kitchensink:1").Stdout);
        var big = manifest.RootElement.GetProperty("layers").EnumerateArray().MaxBy(l => l.GetProperty("size").GetInt64());
        return new Setup
        {
            Registry = registry,
            Proxy = new FaultProxy(registry.Host),
            Tmp = tmp,
            ExpectedId = id,
            BigLayer = big.GetProperty("digest").GetString()!,
            BigLayerSize = big.GetProperty("size").GetInt64(),
        };
    }

    private static void AssertNothingStored(string root, string digest)
    {
        Assert.Equal("[]", StrataCli.Run(root, "images", "--format", "json").Ok().Stdout.Trim());
        Assert.False(File.Exists(Path.Combine(root, "blobs", "sha256", digest[7..])), "a blob that failed verification is in the store");
    }

    [Fact]
    public async Task ADroppedConnectionResumesWithARangeRequest()
    {
        await using var s = await StartAsync();
        long cut = s.BigLayerSize / 3;
        s.Proxy.Add(new Fault.DropAfter(cut), FaultProxy.BlobGet(s.BigLayer), times: 2);
        var root = s.Tmp.CreateDirectory("root");
        var pull = StrataCli.RunEnv(root, RegistryFixture.Env(s.Tmp), "pull", s.Reference).Ok();
        Assert.Equal(s.ExpectedId, RegistryFixture.Id(pull));
        Assert.Contains(s.Proxy.Requests, r => r.Contains($"/blobs/{s.BigLayer} [Range: bytes={cut}-]", StringComparison.Ordinal));
        Assert.Contains(s.Proxy.Requests, r => r.Contains($"/blobs/{s.BigLayer} [Range: bytes={2 * cut}-]", StringComparison.Ordinal));
        Assert.Contains("Retrying", pull.Stderr);
    }

    [Fact]
    public async Task ServerErrorsAndTooManyRequestsAreRetriedHonouringRetryAfter()
    {
        await using var s = await StartAsync();
        s.Proxy.Add(new Fault.Status(500), (m, p) => m == "GET" && p.Contains("/manifests/", StringComparison.Ordinal), times: 2);
        s.Proxy.Add(new Fault.Status(429, "1"), FaultProxy.BlobGet(s.BigLayer));
        s.Proxy.Add(new Fault.Status(503), (m, p) => m == "GET" && p == "/v2/");
        var watch = Stopwatch.StartNew();
        var pull = StrataCli.RunEnv(s.Tmp.CreateDirectory("root"), RegistryFixture.Env(s.Tmp), "pull", s.Reference).Ok();
        Assert.Equal(s.ExpectedId, RegistryFixture.Id(pull));
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1), "Retry-After: 1 was not honoured");
        Assert.Equal(2, s.Proxy.Requests.Count(r => r.Contains("/manifests/", StringComparison.Ordinal) && r.Contains("500 (injected)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AFlippedByteIsNeverStored()
    {
        await using var s = await StartAsync();
        s.Proxy.Add(new Fault.FlipByte(s.BigLayerSize / 2), FaultProxy.BlobGet(s.BigLayer), times: 100);
        var root = s.Tmp.CreateDirectory("root");
        var pull = StrataCli.RunEnv(root, RegistryFixture.Env(s.Tmp), "pull", "-q", s.Reference);
        Assert.Equal(5, pull.ExitCode);
        Assert.Contains(s.BigLayer, pull.Stderr);
        Assert.Single(pull.Stderr.Trim().Split('\n'));
        AssertNothingStored(root, s.BigLayer);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "ingest")));
    }

    [Fact]
    public async Task AFlippedByteOnceIsFetchedAgain()
    {
        await using var s = await StartAsync();
        s.Proxy.Add(new Fault.FlipByte(10), FaultProxy.BlobGet(s.BigLayer), times: 1);
        var pull = StrataCli.RunEnv(s.Tmp.CreateDirectory("root"), RegistryFixture.Env(s.Tmp), "pull", "-q", s.Reference);
        Assert.Equal(s.ExpectedId, RegistryFixture.Id(pull));
    }

    [Fact]
    public async Task PersistentFailureGivesUpWithOneLineAndKeepsTheVerifiedPart()
    {
        await using var s = await StartAsync();
        s.Proxy.Add(new Fault.DropAfter(100_000), FaultProxy.BlobGet(s.BigLayer), times: 1);
        s.Proxy.Add(new Fault.Status(500), FaultProxy.BlobGet(s.BigLayer), times: 100);
        var root = s.Tmp.CreateDirectory("root");
        var env = RegistryFixture.Env(s.Tmp, ("STRATA_REGISTRY_RETRIES", "2"));
        var pull = StrataCli.RunEnv(root, env, "pull", "-q", s.Reference);
        Assert.Equal(8, pull.ExitCode);
        Assert.Contains("HTTP 500", pull.Stderr);
        Assert.Single(pull.Stderr.Trim().Split('\n'));
        AssertNothingStored(root, s.BigLayer);
        // The bytes that did arrive wait in the ingest area for the next attempt, which asks only for the rest.
        var partial = Path.Combine(root, "ingest", $"sha256-{s.BigLayer[7..]}.partial");
        Assert.Equal(100_000, new FileInfo(partial).Length);
        s.Proxy.Clear();
        Assert.Equal(s.ExpectedId, RegistryFixture.Id(StrataCli.RunEnv(root, env, "pull", "-q", s.Reference)));
        Assert.Contains(s.Proxy.Requests, r => r.Contains($"/blobs/{s.BigLayer} [Range: bytes=100000-] -> 206", StringComparison.Ordinal));
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public async Task APullKilledMidBlobResumesInTheNextProcess()
    {
        await using var s = await StartAsync();
        s.Proxy.Add(new Fault.Slow(50_000), FaultProxy.BlobGet(s.BigLayer), times: 1);
        var root = s.Tmp.CreateDirectory("root");
        var env = RegistryFixture.Env(s.Tmp);
        var partial = Path.Combine(root, "ingest", $"sha256-{s.BigLayer[7..]}.partial");
        using (var first = StrataCli.Start(root, env, "pull", "-q", s.Reference))
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && !(File.Exists(partial) && new FileInfo(partial).Length > 100_000)) await Task.Delay(50, TestContext.Current.CancellationToken);
            first.Kill(); // SIGKILL
            await first.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 100_001, s.BigLayerSize - 1);
        AssertNothingStored(root, s.BigLayer);
        Assert.Equal(s.ExpectedId, RegistryFixture.Id(StrataCli.RunEnv(root, env, "pull", "-q", s.Reference)));
        Assert.Contains(s.Proxy.Requests, r => r.Contains($"/blobs/{s.BigLayer} [Range: bytes={kept}-] -> 206", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASlowServerIsWaitedFor()
    {
        await using var s = await StartAsync();
        s.Proxy.Add(new Fault.Slow(2_000_000), FaultProxy.BlobGet(s.BigLayer), times: 1);
        var pull = StrataCli.RunEnv(s.Tmp.CreateDirectory("root"), RegistryFixture.Env(s.Tmp, ("STRATA_REGISTRY_STALL_TIMEOUT", "2")), "pull", "-q", s.Reference);
        Assert.Equal(s.ExpectedId, RegistryFixture.Id(pull));
    }

    [Fact]
    public async Task AManifestThatDoesNotMatchItsDigestIsRefused()
    {
        await using var s = await StartAsync();
        s.Proxy.Add(new Fault.FlipByte(40), (m, p) => m == "GET" && p.Contains("/manifests/", StringComparison.Ordinal), times: 100);
        var root = s.Tmp.CreateDirectory("root");
        var pull = StrataCli.RunEnv(root, RegistryFixture.Env(s.Tmp), "pull", "-q", s.Reference);
        Assert.Equal(5, pull.ExitCode);
        Assert.Equal("[]", StrataCli.Run(root, "images", "--format", "json").Ok().Stdout.Trim());
    }

    [Fact]
    public async Task PushRetriesAFailedUpload()
    {
        await using var s = await StartAsync();
        var root = s.Tmp.CreateDirectory("root");
        var env = RegistryFixture.Env(s.Tmp);
        StrataCli.RunEnv(root, env, "pull", "-q", $"{s.Registry.Host}/faults/kitchensink:1").Ok();
        s.Proxy.Add(new Fault.Status(502), (m, p) => m == "PUT" && p.Contains("/blobs/uploads/", StringComparison.Ordinal), times: 2);
        s.Proxy.Add(new Fault.Status(500), (m, p) => m == "HEAD", times: 1);
        var dest = $"{s.Proxy.Host}/elsewhere/kitchensink:2";
        // A fresh registry repository without mounts: the config and layers are uploaded (a source is known only for faults/).
        StrataCli.RunEnv(root, env, "push", $"{s.Registry.Host}/faults/kitchensink:1", dest).Ok();
        Assert.Contains(s.Proxy.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal) && r.Contains("502 (injected)", StringComparison.Ordinal));
        Tool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{s.Registry.Host}/elsewhere/kitchensink:2");
    }

    [Fact]
    public async Task LargeBlobsGoUpInChunksAndAFailedChunkIsSentAgain()
    {
        await using var s = await StartAsync();
        var root = s.Tmp.CreateDirectory("root");
        var env = RegistryFixture.Env(s.Tmp, ("STRATA_REGISTRY_CHUNK_SIZE", "300000"));
        StrataCli.RunEnv(root, env, "pull", "-q", $"{s.Registry.Host}/faults/kitchensink:1").Ok();
        int patches = 0;
        s.Proxy.Add(new Fault.Status(500), (m, _) => m == "PATCH" && Interlocked.Increment(ref patches) == 2, times: 1);
        var dest = $"{s.Proxy.Host}/chunked/kitchensink:1";
        StrataCli.RunEnv(root, env, "push", "--digestfile", s.Tmp.Combine("digest"), $"{s.Registry.Host}/faults/kitchensink:1", dest).Ok();
        // 1,234,088 bytes in chunks of 300,000: five PATCHes with Content-Range, one of them sent twice.
        var patched = s.Proxy.Requests.Where(r => r.StartsWith("PATCH", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, patched.Count);
        Assert.Single(patched, r => r.Contains("500 (injected)", StringComparison.Ordinal));
        var other = s.Tmp.CreateDirectory("other");
        Assert.Equal(s.ExpectedId, RegistryFixture.Id(StrataCli.RunEnv(other, env, "pull", "-q", $"{s.Registry.Host}/chunked/kitchensink:1")));
    }

    [Fact]
    public async Task ConcurrentPullsOfOneImageIntoOneStoreShareTheWork()
    {
        await using var s = await StartAsync();
        s.Proxy.Add(new Fault.Slow(1_000_000), FaultProxy.BlobGet(s.BigLayer), times: 4);
        var root = s.Tmp.CreateDirectory("root");
        var env = RegistryFixture.Env(s.Tmp);
        var pulls = Enumerable.Range(0, 4).Select(_ => Task.Run(() => StrataCli.RunEnv(root, env, "pull", "-q", s.Reference))).ToList();
        foreach (var p in pulls) Assert.Equal(s.ExpectedId, RegistryFixture.Id(await p));
        using var images = JsonDocument.Parse(StrataCli.Run(root, "images", "--format", "json").Ok().Stdout);
        Assert.Equal(1, images.RootElement.GetArrayLength());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "ingest")));
        // A process that found the blob being fetched waited for it instead of fetching it again.
        Assert.True(s.Proxy.Requests.Count(r => r.Contains($"/blobs/{s.BigLayer}", StringComparison.Ordinal)) < 4);
    }
}
