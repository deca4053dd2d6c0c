using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>
/// strata without root: a store made by an unprivileged user (uid 65534 here) keeps layers in the rootless form
/// (owners, modes and devices in user.containers.override_stat, opaque in user.overlay.opaque, capabilities
/// under user.strata.xattr.) and mounts containers through fusermount3. The user sees the image as root would,
/// changes it as root of its own files, and commits a layer a root store reads back exactly.
/// </summary>
public class RootlessFuseTests
{
    private const string User = "65534";

    // The same changes, made by the user through the FUSE mount and by root on a plain copy of the rootfs.
    private const string Changes = """
        set -e
        cd "$1"
        echo new > added; chown 123:456 added; chmod 4711 added
        echo more >> modes/none-file
        chmod 0750 modes/private
        rm owners/big-uid
        rm -r l2/opaque; mkdir l2/opaque; echo x > l2/opaque/fresh
        mkdir newdir; chown 7:8 newdir
        ln -s added sym
        mv owners/dir-1000 owners/moved
        setfattr -n user.note -v kept files/one-byte
        chown 1000:1000 files/empty
        """;

    private static ToolResult AsUser(string home, params string[] command) =>
        Tool.Run(new ToolCall("setpriv", ["--reuid=" + User, "--regid=" + User, "--clear-groups", "env", "HOME=" + home, .. command]) { Check = false, WorkingDirectory = home });

    private static string StrataAsUser(string home, string root, params string[] args)
    {
        var bin = Path.Combine(Path.GetDirectoryName(home)!, "strata-bin", "strata"); // StrataForOtherUsers's copy
        var r = AsUser(home, [bin, "--root", root, .. args]);
        Assert.True(r.ExitCode == 0, $"strata {string.Join(' ', args)} as uid {User}: {r.Stderr}{r.Stdout}");
        return r.Stdout.Trim();
    }

    /// <summary>The user's own store with kitchensink loaded, and its container "c" mounted.</summary>
    private static (TempDir Tmp, string Home, string Root, string Merged, SampleImage Sample) Setup()
    {
        Requires.Root();
        Requires.Fuse();
        Requires.Tool("setpriv");
        Requires.Tool("fusermount3");
        Assert.False(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("STRATA_BIN")), "STRATA_BIN must name the published strata (scripts/test.sh sets it)");
        var sample = SampleImages.Get("kitchensink");
        var tmp = new TempDir();
        var home = tmp.CreateDirectory("home");
        var layout = tmp.Combine("home", "layout");
        Tool.Run("cp", "-a", sample.LayoutDir, layout);
        Tool.Run("chown", "-R", $"{User}:{User}", home);
        StrataForOtherUsers.CopyInto(tmp);
        var root = Path.Combine(home, "store");
        var id = StrataAsUser(home, root, "load", "-q", "-i", layout);
        StrataAsUser(home, root, "create", "--name", "c", id);
        return (tmp, home, root, StrataAsUser(home, root, "mount", "c"), sample);
    }

    /// <summary>Names, owners, modes, file sizes and device numbers, as the given user (null: root) sees them.</summary>
    private static string Listing(string? home, string dir)
    {
        var script = $"cd '{dir}' && {{ find . -printf '%p %u:%g %M\\n'; find . -type f -printf '%p %s\\n'; }} | sort && stat -c '%n %t:%T' special/null special/loop200";
        return home is null ? Tool.Run("sh", "-c", script).Stdout : AsUser(home, "sh", "-c", script).Stdout;
    }

    [Fact]
    public void AUserSeesChangesAndCommitsTheImageAsRootWould()
    {
        var (tmp, home, root, merged, sample) = Setup();
        using var _ = tmp;
        try
        {
            Assert.Contains("fuse.strata-overlay", File.ReadLines("/proc/self/mountinfo").Single(l => l.Split(' ')[4] == merged));
            // The user's view of the image equals root's unpack (umoci) of it: owners, modes, devices, capabilities.
            Assert.Equal(Listing(null, sample.RootfsFromUmoci), Listing(home, merged));
            Assert.Equal(Tool.Run("getfattr", "-n", "security.capability", "--only-values", Path.Combine(sample.RootfsFromUmoci, "xattr/capability")).Stdout,
                AsUser(home, "getfattr", "-n", "security.capability", "--only-values", Path.Combine(merged, "xattr/capability")).Stdout);
            var changed = AsUser(home, "bash", "-c", Changes, "changes", merged);
            Assert.True(changed.ExitCode == 0, changed.Stderr);
            Assert.Contains("123:456 -rws--x--x", Listing(home, merged));
        }
        finally
        {
            StrataAsUser(home, root, "umount", "c");
        }
        var diff = StrataAsUser(home, root, "diff", "c").Split('\n');
        Assert.Contains("A /added", diff);
        Assert.Contains("D /owners/big-uid", diff);
        Assert.Contains("A /l2/opaque/fresh", diff);

        // The user's store holds no privileged form: no trusted.* xattrs, no device but whiteouts.
        var upper = StoreLayout.UpperOf(root, Path.GetFileName(Path.GetDirectoryName(merged)!));
        Assert.DoesNotContain("trusted.", Tool.Run("getfattr", "-R", "-d", "-m", "-", upper).Stdout);

        StrataAsUser(home, root, "commit", "c", "localhost/rootless:1");
        var archive = Path.Combine(home, "out.tar");
        StrataAsUser(home, root, "save", "-o", archive, "localhost/rootless:1");

        // Root reads the user's image back: its tree is root's copy of the rootfs with the same changes.
        var expected = tmp.Combine("expected");
        Tool.Run("cp", "-a", sample.RootfsFromUmoci, expected);
        Tool.Run("bash", "-c", Changes, "changes", expected);
        var rootStore = tmp.CreateDirectory("root-store");
        StrataCli.Run(rootStore, "load", "-i", archive).Ok();
        var unpacked = tmp.Combine("unpacked");
        StrataCli.Run(rootStore, "unpack", "localhost/rootless:1", unpacked).Ok();
        var problems = TreeComparer.Compare(expected, unpacked, new TreeComparer.Options { CompareMtimes = false });
        Assert.True(problems.Count == 0, string.Join('\n', problems.Take(20)));
    }

    [Fact]
    public void AKilledDaemonsMountIsClearedByTheUsersNextCommand()
    {
        var (tmp, home, root, merged, _) = Setup();
        using var _ = tmp;
        var pid = Tool.Run("pgrep", "-f", $"overlay-mount .*{merged}").Stdout.Trim();
        Tool.Run("kill", "-9", pid);
        // Dead now (ENOTCONN), or taken off by fusermount3's auto_unmount: either way the user's next command clears it.
        StrataAsUser(home, root, "ps");
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == merged);
        merged = StrataAsUser(home, root, "mount", "c");
        Assert.True(AsUser(home, "test", "-f", Path.Combine(merged, "files/one-byte")).Succeeded);
        StrataAsUser(home, root, "umount", "c");
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == merged);
    }
}
