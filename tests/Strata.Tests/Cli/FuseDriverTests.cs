using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>
/// strata's containers on its own FUSE union (--driver fuse): a daemon per mount that outlives the command, and
/// what happens when that daemon is killed or the directories under it vanish.
/// </summary>
public class FuseDriverTests
{
    private static (TempDir Tmp, string Root) Setup()
    {
        Requires.Root();
        Requires.Fuse();
        var sample = SampleImages.Get("busybox");
        var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "--driver", "fuse", "load", "-q", "-i", sample.LayoutDir).Ok().Stdout.Trim();
        StrataCli.Run(root, "create", "--name", "c", id).Ok();
        return (tmp, root);
    }

    private static bool IsMountPoint(string path) =>
        File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ')[4] == path);

    private static void KillDaemonOf(string merged)
    {
        var pid = Tool.Run("pgrep", "-f", $"overlay-mount .*{merged}").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single();
        Tool.Run("kill", "-9", pid);
        // The kernel keeps the mount, now answering ENOTCONN, until someone takes it off.
        for (int i = 0; i < 200 && Tool.Run(new ToolCall("stat", ["-f", merged]) { Check = false }).ExitCode == 0; i++) Thread.Sleep(10);
    }

    [Fact]
    public void MountOutlivesTheCommandAndUmountEndsTheDaemon()
    {
        var (tmp, root) = Setup();
        using var _ = tmp;
        var merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
        Assert.True(IsMountPoint(merged));
        Assert.Contains("fuse.strata-overlay", File.ReadLines("/proc/self/mountinfo").Single(l => l.Split(' ')[4] == merged));
        File.WriteAllText(Path.Combine(merged, "written"), "by the container");
        Assert.Equal(merged, StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim()); // a second user shares the mount
        StrataCli.Run(root, "umount", "c").Ok();
        Assert.True(IsMountPoint(merged), "the first umount of two left the mount");
        StrataCli.Run(root, "umount", "c").Ok();
        Assert.False(IsMountPoint(merged));
        Assert.Equal(1, Tool.Run(new ToolCall("pgrep", ["-f", $"overlay-mount .*{merged}"]) { Check = false }).ExitCode); // no daemon left
        Assert.Equal("by the container", File.ReadAllText(Path.Combine(StoreLayout.UpperOf(root, Path.GetFileName(Path.GetDirectoryName(merged)!)), "written")));
        Assert.Contains("A /written", StrataCli.Run(root, "diff", "c").Ok().Stdout);
    }

    [Fact]
    public void AMountThatLoggedNothingLeavesNoLogFile()
    {
        var (tmp, root) = Setup();
        using var _ = tmp;
        var logs = Path.Combine(root, "logs");
        for (int round = 0; round < 2; round++)
        {
            var merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
            // The daemon's stderr while it serves, opened just after it tells the starter the mount is up.
            for (int i = 0; i < 500 && !(Directory.Exists(logs) && Directory.GetFiles(logs, "fuse-*.log").Length > 0); i++) Thread.Sleep(20);
            Assert.Single(Directory.GetFiles(logs, "fuse-*.log"));
            File.WriteAllText(Path.Combine(merged, "f" + round), "x");
            StrataCli.Run(root, "umount", "c").Ok();
            // The daemon removes its empty log as it exits, which may be a moment after umount returns.
            for (int i = 0; i < 500 && Directory.GetFiles(logs, "fuse-*.log").Length > 0; i++) Thread.Sleep(20);
            Assert.Empty(Directory.GetFiles(logs, "fuse-*.log"));
        }
    }

    [Fact]
    public void AKilledDaemonLeavesADeadMountThatUmountPsAndTheNextMountClear()
    {
        var (tmp, root) = Setup();
        using var _ = tmp;
        var merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
        File.WriteAllText(Path.Combine(merged, "kept"), "x");
        KillDaemonOf(merged);
        var dead = Tool.Run(new ToolCall("ls", [merged]) { Check = false });
        Assert.Contains("Transport endpoint is not connected", dead.Stderr);

        StrataCli.Run(root, "umount", "c").Ok();
        Assert.False(IsMountPoint(merged));

        merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
        Assert.Equal("x", File.ReadAllText(Path.Combine(merged, "kept")));
        KillDaemonOf(merged);
        // Any later strata command on the store finds the dead mount and takes it off.
        Assert.DoesNotContain("mounted", StrataCli.Run(root, "ps").Ok().Stdout);
        Assert.False(IsMountPoint(merged));

        merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
        KillDaemonOf(merged);
        merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim(); // a dead mount is replaced, not counted
        Assert.Equal("x", File.ReadAllText(Path.Combine(merged, "kept")));
        StrataCli.Run(root, "rm", "-f", "c").Ok();
        Assert.False(IsMountPoint(merged));
    }

    [Fact]
    public void ADeadMountOnAReadOnlyStoreIsReportedAndSweptOnceTheStoreIsWritable()
    {
        Requires.Root();
        Requires.Fuse();
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 32 << 20);
        var root = Path.Combine(fs.Path, "store");
        var id = StrataCli.Run(root, "--driver", "fuse", "load", "-q", "-i", SampleImages.Get("busybox").LayoutDir).Ok().Stdout.Trim();
        StrataCli.Run(root, "create", "--name", "c", id).Ok();
        var merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
        KillDaemonOf(merged);
        fs.Remount(readOnly: true);

        // The read verbs work and change nothing: the dead mount is told, not swept.
        Assert.Contains("Created (dead mount)", StrataCli.Run(root, "ps").Ok().Stdout);
        StrataCli.Run(root, "df").Ok();
        Assert.True(IsMountPoint(merged), "a read-only store's dead mount was taken off");

        fs.Remount(readOnly: false);
        Assert.DoesNotContain("mount", StrataCli.Run(root, "ps").Ok().Stdout);
        Assert.False(IsMountPoint(merged));
    }

    [Theory]
    [InlineData("upper")]
    [InlineData("lower")]
    public void AVanishedLayerGivesEioAndALogLineNeverAHang(string which)
    {
        var (tmp, root) = Setup();
        using var _ = tmp;
        var merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
        try
        {
            File.WriteAllText(Path.Combine(merged, "mine"), "x");
            var layer = which == "upper"
                ? StoreLayout.UpperOf(root, Path.GetFileName(Path.GetDirectoryName(merged)!))
                : Path.Combine(Assert.Single(StoreLayout.LayerDirs(root)), "diff");
            Directory.Move(layer, layer + ".moved");
            try
            {
                var cat = Tool.Run(new ToolCall("cat", [Path.Combine(merged, which == "upper" ? "mine" : "bin/sh")]) { Check = false, Timeout = TimeSpan.FromSeconds(20) });
                Assert.Contains("Input/output error", cat.Stderr);
                var log = File.ReadAllText(Directory.GetFiles(Path.Combine(root, "logs"), "fuse-*.log").Single());
                Assert.Contains($"layer directory {layer} is gone", log);
            }
            finally
            {
                Directory.Move(layer + ".moved", layer);
            }
        }
        finally
        {
            StrataCli.Run(root, "umount", "c").Ok();
        }
    }
}
