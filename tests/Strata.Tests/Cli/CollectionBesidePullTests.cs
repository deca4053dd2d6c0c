using System.Diagnostics;
using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>
/// Leases instead of a store-wide lock: prune and rmi run beside a pull in flight, finish without waiting for it, and
/// take nothing it holds; a pull killed part-way leaves what only the next collection removes, all of it.
/// </summary>
public class CollectionBesidePullTests
{
    private const string Busybox = "docker.io/strata-test/busybox:latest";

    /// <summary>Starts a pull whose big layer crawls (about eight seconds), and waits until that layer is under way.</summary>
    private static async Task<Process> StartSlowPullAsync(RegistryFaultTests.Setup s, string root)
    {
        s.Proxy.Add(new Fault.Slow((int)Math.Max(20_000, s.BigLayerSize / 8)), FaultProxy.BlobGet(s.BigLayer), times: 1);
        var partial = Path.Combine(root, "ingest", $"sha256-{s.BigLayer[7..]}.partial");
        var pull = StrataCli.Start(root, RegistryFixture.Env(s.Tmp), "pull", "-q", s.Reference);
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(partial) && !pull.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60))
            await Task.Delay(20, TestContext.Current.CancellationToken);
        await Task.Delay(500, TestContext.Current.CancellationToken); // the other layers are in by now
        // (The message is made only when needed: reading the output of a running pull would wait for its end.)
        if (pull.HasExited) Assert.Fail("the pull ended before the test could run beside it: " + await pull.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
        return pull;
    }

    private static HashSet<string> Blobs(string root)
    {
        var dir = Path.Combine(root, "blobs", "sha256");
        return Directory.Exists(dir) ? Directory.EnumerateFiles(dir).Select(f => Path.GetFileName(f)).ToHashSet() : [];
    }

    private static (int Count, long Size) Leftovers(string root)
    {
        using var df = System.Text.Json.JsonDocument.Parse(StrataCli.Run(root, "df", "--format", "json").Ok().Stdout);
        return (df.RootElement.GetProperty("Leftovers").GetInt32(), df.RootElement.GetProperty("LeftoversSize").GetInt64());
    }

    private static TimeSpan Timed(string root, params string[] args)
    {
        var clock = Stopwatch.StartNew();
        StrataCli.Run(root, args).Ok();
        return clock.Elapsed;
    }

    [Fact]
    public async Task PruneAndRmiRunBesideAPullAndTakeNothingItHolds()
    {
        Requires.Root();
        await using var s = await RegistryFaultTests.StartAsync();
        var root = s.Tmp.CreateDirectory("root");
        StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("busybox").DockerArchive).Ok();
        using var pull = await StartSlowPullAsync(s, root);
        try
        {
            // Each would wait for the pull's end under a store-wide lock; with leases it takes its moment.
            Assert.InRange(Timed(root, "prune"), TimeSpan.Zero, TimeSpan.FromSeconds(4));
            Assert.InRange(Timed(root, "rmi", Busybox), TimeSpan.Zero, TimeSpan.FromSeconds(4));
            Assert.InRange(Timed(root, "prune"), TimeSpan.Zero, TimeSpan.FromSeconds(4));
            Assert.False(pull.HasExited, "the pull ended while the collections ran: they proved nothing");
            await pull.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
            Assert.True(pull.ExitCode == 0, await pull.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
        }
        finally
        {
            if (!pull.HasExited) pull.Kill();
        }
        Assert.Equal(s.ExpectedId, (await pull.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken)).Trim());
        StrataCli.Run(root, "system", "check").Ok();
        var container = StrataCli.Run(root, "create", s.Reference).Ok().Stdout.Trim();
        StrataCli.Run(root, "diff", container).Ok();
        StrataCli.Run(root, "rm", container).Ok();
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "leases")));
    }

    [Fact]
    public async Task WhatAKilledPullLeftGoesAtTheNextPruneAndNothingElse()
    {
        Requires.Root();
        await using var s = await RegistryFaultTests.StartAsync();
        var root = s.Tmp.CreateDirectory("root");
        StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("busybox").DockerArchive).Ok();
        var kept = Blobs(root);
        using (var pull = await StartSlowPullAsync(s, root))
        {
            pull.Kill(); // SIGKILL: its lease is never ended, only dropped by the next collection
            await pull.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);

        }
        Assert.NotEqual(kept, Blobs(root));
        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "leases")));

        // df counts what the kill left (the blobs and unpacked layers only its dead lease held) as reclaimable.
        var (count, size) = Leftovers(root);
        Assert.True(count >= 2 && size > 0, $"df counts {count} leftovers of {size} bytes");

        StrataCli.Run(root, "prune").Ok();
        Assert.Equal((0, 0L), Leftovers(root));
        Assert.Equal(kept, Blobs(root));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "leases")));
        var overlay = Path.Combine(root, "overlay");
        Assert.Empty(Directory.Exists(overlay) ? Directory.GetDirectories(overlay).Select(Path.GetFileName).Where(n => n is not ("l" or "empty")) : []);
        StrataCli.Run(root, "system", "check").Ok();
        var container = StrataCli.Run(root, "create", Busybox).Ok().Stdout.Trim();
        StrataCli.Run(root, "rm", container).Ok();
    }
}
