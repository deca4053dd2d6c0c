using Strata.Tests.Cli;
using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Fuse;

/// <summary>
/// strata-overlay as a drop-in for fuse-overlayfs: podman runs with overlay.mount_program pointing at it (pull,
/// create, mount, change, diff, commit) and ends where podman with the kernel's overlayfs ends; mount.fuse3 mounts
/// it by type; the daemon goes away with the mount.
/// </summary>
public class StrataOverlayPodmanTests
{
    private static string StrataOverlay()
    {
        var bin = Environment.GetEnvironmentVariable("STRATA_BIN");
        if (string.IsNullOrEmpty(bin)) Assert.Skip("needs the published strata binary (STRATA_BIN, set by scripts/test.sh) for strata-overlay");
        var overlay = Path.Combine(Path.GetDirectoryName(bin)!, "strata-overlay");
        Assert.True(File.Exists(overlay), $"{overlay} is missing (scripts/build.sh makes it)");
        return overlay;
    }

    private static (string Diff, string Rootfs) RunPodman(TempDir tmp, string label, string image, string? mountProgram)
    {
        string[] podman = ["--root", tmp.Combine(label, "root"), "--runroot", tmp.Combine(label, "run"), "--storage-driver", "overlay",
            .. mountProgram is null ? Array.Empty<string>() : ["--storage-opt", $"overlay.mount_program={mountProgram}"]];
        Tool.Run("podman", [.. podman, "pull", "-q", "--tls-verify=false", image]);
        var c = Tool.Run("podman", [.. podman, "create", image, "/bin/sh"]).Stdout.Trim();
        var merged = Tool.Run("podman", [.. podman, "mount", c]).Stdout.Trim();
        if (mountProgram is not null)
            Assert.Contains(File.ReadLines("/proc/mounts"), l => l.Contains(merged, StringComparison.Ordinal) && l.Contains("fuse.strata-overlay", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(merged, "hello.txt"), "hello\n");
        File.Delete(Path.Combine(merged, "bin", "ls"));
        Directory.Delete(Path.Combine(merged, "etc"), recursive: true);
        Directory.CreateDirectory(Path.Combine(merged, "etc"));
        File.WriteAllText(Path.Combine(merged, "etc", "only"), "fresh\n");
        File.AppendAllText(Path.Combine(merged, "bin", "busybox"), "");
        Tool.Run("chmod", "700", Path.Combine(merged, "tmp"));
        var diff = Tool.Run("podman", [.. podman, "diff", c]).Stdout;
        Tool.Run("podman", [.. podman, "commit", "-q", c, "localhost/committed:1"]);
        Tool.Run("podman", [.. podman, "umount", c]);
        Assert.DoesNotContain(File.ReadLines("/proc/mounts"), l => l.Contains(merged, StringComparison.Ordinal));
        var rootfs = tmp.CreateDirectory(label, "rootfs");
        Tool.Run("podman", [.. podman, "image", "save", "-o", tmp.Combine(label, "committed.tar"), "localhost/committed:1"]);
        Tool.Run("podman", [.. podman, "rm", c]);
        // Flatten the saved layers with strata itself (the unpack proven equal to umoci's elsewhere).
        var store = tmp.CreateDirectory(label, "strata");
        var id = RegistryFixture.Id(StrataCli.Run(store, "load", "-q", "-i", tmp.Combine(label, "committed.tar")));
        StrataCli.Run(store, "unpack", id, Path.Combine(rootfs, "tree")).Ok();
        return (diff, Path.Combine(rootfs, "tree"));
    }

    [Fact]
    public async Task PodmanWithStrataOverlayMatchesTheKernelDriver()
    {
        Requires.Root();
        Requires.Fuse();
        Requires.Tool("podman");
        var overlay = StrataOverlay();
        await using var registry = await RegistryServer.StartAsync();
        RegistryFixture.Seed(registry, "busybox", "podman/busybox:1");
        using var tmp = new TempDir();
        var image = $"{registry.Host}/podman/busybox:1";
        var kernel = RunPodman(tmp, "kernel", image, null);
        var fuse = RunPodman(tmp, "fuse", image, overlay);
        // podman diffs a mount_program container naively (merged tree vs image) and a kernel one from its upper
        // directory, so the listings differ in form (a replaced /etc is "D /etc" or one "D" per child); the changes
        // themselves, and the committed trees, must be the same.
        foreach (var change in new[] { "A /hello.txt", "D /bin/ls", "A /etc/only", "D /etc/passwd" })
            Assert.Contains(change, fuse.Diff.Split('\n'));
        Assert.Contains("A /hello.txt", kernel.Diff.Split('\n'));
        var differences = TreeComparer.Compare(kernel.Rootfs, fuse.Rootfs, new TreeComparer.Options { CompareMtimes = false });
        Assert.True(differences.Count == 0, string.Join('\n', differences.Take(40)));
    }

    [Fact]
    public void MountFuse3MountsItByTypeAndTheDaemonEndsWithTheMount()
    {
        Requires.Root();
        Requires.Fuse();
        var overlay = StrataOverlay();
        using var tmp = new TempDir();
        string lower = tmp.CreateDirectory("lower"), upper = tmp.CreateDirectory("upper"), work = tmp.CreateDirectory("work"), merged = tmp.CreateDirectory("merged");
        File.WriteAllText(Path.Combine(lower, "a"), "from lower\n");
        // mount.fuse3 looks the helper up on the standard PATH; scripts/test.sh links it into /usr/local/bin.
        var installed = "/usr/local/bin/strata-overlay";
        Assert.True(File.Exists(installed) && Path.GetFullPath(File.ResolveLinkTarget(installed, true)?.FullName ?? installed) == Path.GetFullPath(File.ResolveLinkTarget(overlay, true)?.FullName ?? overlay),
            $"{installed} must lead to {overlay} (scripts/test.sh makes the link)");
        Tool.Run("mount", "-t", "fuse.strata-overlay", "strata-test", merged, "-o", $"lowerdir={lower},upperdir={upper},workdir={work}");
        Assert.Equal("from lower\n", File.ReadAllText(Path.Combine(merged, "a")));
        File.WriteAllText(Path.Combine(merged, "a"), "changed\n");
        Assert.Equal("changed\n", File.ReadAllText(Path.Combine(upper, "a")));
        Assert.Equal("from lower\n", File.ReadAllText(Path.Combine(lower, "a")));
        Tool.Run("umount", merged);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline && Tool.Run(new ToolCall("pgrep", ["-f", $"strata-overlay-child.*{merged}|{merged}.*strata-overlay-child"]) { Check = false }).Succeeded)
            Thread.Sleep(50);
        Assert.False(Tool.Run(new ToolCall("pgrep", ["-f", "strata-overlay-child"]) { Check = false }).Stdout.Contains(merged, StringComparison.Ordinal));
        var bad = Tool.Run(new ToolCall(overlay, ["-o", "upperdir=/nonexistent", merged]) { Check = false });
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("lowerdir", bad.Stderr);
    }
}
