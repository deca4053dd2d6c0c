namespace Strata.Tests.Infrastructure;

/// <summary>
/// Capability checks. A test skips only when the machine really lacks the capability; with CI=true
/// it fails instead, since CI machines have every capability and a silent skip there hides a regression.
/// </summary>
public static class Requires
{
    private const int CapSysAdmin = 21;

    private static readonly Lazy<string?> RootProblem = new(CheckRoot);
    private static readonly Lazy<string?> OverlayProblem = new(CheckOverlay);
    private static readonly Lazy<string?> FuseProblem = new(CheckFuse);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void Root() => Check(RootProblem.Value);

    public static void Tool(string name) =>
        Check(Infrastructure.Tool.Exists(name) ? null : $"needs the tool '{name}' (scripts/setup.sh installs it)");

    public static void Present(string path, string what) =>
        Check(File.Exists(path) || Directory.Exists(path) ? null : $"needs {what} at {path} (scripts/setup.sh installs it)");

    public static void Overlay() => Check(OverlayProblem.Value);

    /// <summary>The published NativeAOT strata (STRATA_BIN, set by scripts/test.sh).</summary>
    public static string PublishedStrata()
    {
        var bin = Environment.GetEnvironmentVariable("STRATA_BIN");
        Check(string.IsNullOrEmpty(bin) ? "needs the published strata: set STRATA_BIN (scripts/build.sh publishes it)" : null);
        return bin!;
    }

    public static void Fuse() => Check(FuseProblem.Value);

    private static void Check(string? problem)
    {
        if (problem is null)
            return;
        if (IsCi)
            Assert.Fail($"{problem} [CI=true: nothing may skip]");
        Assert.Skip(problem);
    }

    private static string? CheckRoot()
    {
        if (Native.GetEuid() != 0)
            return "needs root (CAP_SYS_ADMIN) for mounts, device nodes and chown";
        return HasEffectiveCapability(CapSysAdmin) ? null : "needs CAP_SYS_ADMIN (running as root without it)";
    }

    private static bool HasEffectiveCapability(int bit)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line["CapEff:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, null, out var caps)
            && (caps & (1UL << bit)) != 0;
    }

    // A real mount proves more than /proc/filesystems: user namespaces, LSMs and tmpfs xattr support all matter.
    private static string? CheckOverlay()
    {
        if (RootProblem.Value is not null)
            return "needs root (CAP_SYS_ADMIN) for the kernel's overlayfs";
        using var dir = new TempDir("overlay-probe");
        string lower = dir.CreateDirectory("lower"), upper = dir.CreateDirectory("upper"),
            work = dir.CreateDirectory("work"), merged = dir.CreateDirectory("merged");
        File.WriteAllText(Path.Combine(lower, "probe"), "lower");
        var mount = Infrastructure.Tool.Run(new ToolCall("mount",
            ["-t", "overlay", "overlay", "-o", $"lowerdir={lower},upperdir={upper},workdir={work}", merged]) { Check = false });
        if (!mount.Succeeded)
            return $"needs the kernel's overlayfs; a test mount failed: {mount.Stderr.Trim()}";
        try
        {
            return File.ReadAllText(Path.Combine(merged, "probe")) == "lower" ? null : "overlayfs mounted but did not show its lower layer";
        }
        finally
        {
            Infrastructure.Tool.Run(new ToolCall("umount", [merged]) { Check = false });
        }
    }

    private static string? CheckFuse()
    {
        const string dev = "/dev/fuse";
        if (!File.Exists(dev))
            return "needs /dev/fuse (FUSE kernel support)";
        try
        {
            using var handle = File.OpenHandle(dev, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"needs /dev/fuse to be openable read-write: {e.Message}";
        }
    }
}
