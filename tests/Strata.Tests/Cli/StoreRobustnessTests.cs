using System.Diagnostics;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>Several strata processes on one root, and kill -9 in the middle of a load.</summary>
public class StoreRobustnessTests
{
    [Fact]
    public async Task ConcurrentLoadsAndImportsOnOneRoot()
    {
        var busybox = SampleImages.Get("busybox");
        var kitchensink = SampleImages.Get("kitchensink");
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var rootfsA = tmp.CreateDirectory("rootfs-a");
        File.WriteAllText(Path.Combine(rootfsA, "f"), "a");
        var rootfsB = tmp.CreateDirectory("rootfs-b");
        File.WriteAllText(Path.Combine(rootfsB, "f"), "b");
        var tasks = new List<Task<CliResult>>
        {
            Task.Run(() => StrataCli.Run(root, "load", "-q", "-i", busybox.DockerArchive)),
            Task.Run(() => StrataCli.Run(root, "load", "-q", "-i", kitchensink.OciArchive)),
            Task.Run(() => StrataCli.Run(root, "load", "-q", "-i", busybox.LayoutDir)),
            Task.Run(() => StrataCli.Run(root, "load", "-q", "-i", kitchensink.ZstdLayoutDir)),
            Task.Run(() => StrataCli.Run(root, "import", rootfsA, "localhost/a:1")),
            Task.Run(() => StrataCli.Run(root, "import", rootfsB, "localhost/b:1")),
        };
        foreach (var r in await Task.WhenAll(tasks)) r.Ok();
        var ids = StrataCli.Run(root, "images", "-q", "--no-trunc").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, ids.Length); // busybox, kitchensink (gzip and zstd share a config: one ID), a, b
        foreach (var id in ids) StrataCli.Run(root, "inspect", id).Ok();
    }

    [Fact]
    public void KillDuringLoadLeavesAConsistentStore()
    {
        var sample = SampleImages.Get("kitchensink");
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var bin = Environment.GetEnvironmentVariable("STRATA_BIN");
        // Kill at several points of a load; each time the store must still answer and a full load must then work.
        foreach (var delayMs in new[] { 30, 120, 300 })
        {
            var psi = string.IsNullOrEmpty(bin)
                ? new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "strata.dll") } }
                : new ProcessStartInfo(bin);
            foreach (var a in new[] { "--root", root, "load", "-i", sample.OciArchive }) psi.ArgumentList.Add(a);
            psi.RedirectStandardOutput = psi.RedirectStandardError = true;
            using var p = Process.Start(psi)!;
            Thread.Sleep(delayMs);
            try { p.Kill(); } catch (InvalidOperationException) { }
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(30)), "a killed strata did not exit in 30 s");
            var listed = StrataCli.Run(root, "images", "-q").Ok().Stdout.Trim();
            if (listed.Length > 0) StrataCli.Run(root, "inspect", listed.Split('\n')[0]).Ok();
        }
        var id = StrataCli.Run(root, "load", "-q", "-i", sample.OciArchive).Ok().Stdout.Trim();
        StrataCli.Run(root, "inspect", id).Ok();
        // Whatever a killed load had half-written is gone after a prune, and the image still reads.
        StrataCli.Run(root, "prune").Ok();
        StrataCli.Run(root, "save", "--format", "oci-archive", "-o", tmp.Combine("out.tar"), id).Ok();
    }
}
