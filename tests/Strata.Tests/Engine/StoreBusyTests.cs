using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Strata.Engine;
using Strata.Errors;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Engine;

/// <summary>A writer that meets another process's write transaction waits for a bound, then fails with one clear line.</summary>
public class StoreBusyTests
{
    [Fact]
    public async Task AWriterWaitsItsBoundForAHeldDatabaseThenFailsClearly()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("store");
        var ct = TestContext.Current.CancellationToken;
        var engine = new StrataEngine(new StrataEngineOptions { Root = root, BusyTimeout = TimeSpan.FromSeconds(1) });
        await engine.LoadAsync(SampleImages.Get("busybox").DockerArchive, ct);

        // Another holder of the write lock, as a second process would be: its own connection, BEGIN IMMEDIATE.
        using (var other = new SqliteConnection($"Data Source={Path.Combine(root, "strata.db")};Pooling=False"))
        {
            other.Open();
            using var held = other.BeginTransaction(deferred: false);
            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<StrataException>(() => engine.TagAsync("docker.io/strata-test/busybox:latest", ["localhost/x:1"], ct))
                .WaitAsync(TimeSpan.FromSeconds(60), ct);
            Assert.Equal(ErrorKind.Conflict, e.Kind);
            Assert.Contains("busy", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("SQLite", e.Message, StringComparison.Ordinal);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(15));
            // Readers are not held up by it.
            Assert.Single(await engine.ListImagesAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct));
        }
        await engine.TagAsync("docker.io/strata-test/busybox:latest", ["localhost/x:1"], ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
    }
}
