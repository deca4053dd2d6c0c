using Strata.Fuse;
using Strata.Native;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Fuse;

/// <summary>
/// Set-user/group-ID bits and file capabilities after writes, truncates and chowns, by an unprivileged user and by
/// root, on lower files (so through copy-up): the FUSE union (which drops them itself when the kernel says so) must
/// end where the kernel's overlayfs does, with passthrough and without.
/// </summary>
public class FuseSetIdTests
{
    // A version-2 file capability: effective, permitted CAP_NET_BIND_SERVICE.
    private static readonly byte[] Capability = [1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    private static readonly (string Name, string Mode, string Action)[] Cases =
    [
        ("user-writes-suid", "6755", "user:echo x >> F"),
        ("user-truncates-suid", "6755", "user:truncate -s 1 F"),
        ("user-writes-sgid-no-group-exec", "2764", "user:echo x >> F"),
        ("user-writes-capability", "0755", "user:echo x >> F"),
        ("root-chowns-suid", "6755", "root:chown 65534:65534 F"),
        ("root-writes-suid", "6755", "root:echo x >> F"),
        ("user-opens-truncating-suid", "4755", "user:: > F"),
    ];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SetIdBitsAndCapabilitiesGoAsOnTheKernelsOverlay(bool passthrough)
    {
        Requires.Root();
        Requires.Overlay();
        Requires.Fuse();
        Requires.Tool("setpriv");
        using var tmp = new TempDir();
        var lower = tmp.CreateDirectory("lower");
        File.SetUnixFileMode(lower, (UnixFileMode)0x1ff);
        foreach (var (name, mode, _) in Cases)
        {
            var path = Path.Combine(lower, name);
            File.WriteAllText(path, "lower\n");
            Libc.Check(Libc.FchownAt(Libc.AT_FDCWD, path, 65534, 65534, 0), "chown", path);
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(mode, 8));
            if (name.Contains("capability", StringComparison.Ordinal)) Libc.SetXattr(path, "security.capability", Capability);
        }
        string kUpper = tmp.CreateDirectory("k-upper"), kWork = tmp.CreateDirectory("k-work"), kMerged = tmp.CreateDirectory("k-merged");
        string fUpper = tmp.CreateDirectory("f-upper"), fWork = tmp.CreateDirectory("f-work"), fMerged = tmp.CreateDirectory("f-merged");
        Tool.Run("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={lower},upperdir={kUpper},workdir={kWork}", kMerged);
        try
        {
            using var session = FuseSession.Mount(new UnionFileSystem(fUpper, fWork, [lower]), fMerged, "strata-setid", passthrough: passthrough);
            foreach (var (name, _, action) in Cases)
            {
                var kernel = After(kMerged, name, action);
                var fuse = After(fMerged, name, action);
                Assert.True(kernel == fuse, $"{name}: the kernel's overlayfs gives {kernel}, the FUSE union {fuse}");
            }
        }
        finally
        {
            Tool.Run("umount", kMerged);
        }
    }

    /// <summary>Runs the case's action on its file and says what is left: mode and whether a capability is.</summary>
    private static string After(string merged, string name, string action)
    {
        var file = Path.Combine(merged, name);
        var (who, command) = (action[..action.IndexOf(':')], action[(action.IndexOf(':') + 1)..].Replace("F", $"'{file}'", StringComparison.Ordinal));
        var args = who == "user" ? new[] { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", command } : ["sh", "-c", command];
        Tool.Run(args[0], args[1..]);
        Assert.True(Libc.TryLstatAt(Libc.AT_FDCWD, file, out var st));
        bool capability = Libc.GetXattr(file, "security.capability") is not null;
        return $"mode {Convert.ToString(st.Mode & 0xfff, 8)}, {(capability ? "capability" : "no capability")}, size {st.Size}";
    }
}
