using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>An image buildah commits loads into strata and unpacks to what umoci unpacks.</summary>
public class BuildahInteropTests
{
    [Fact]
    public void BuildahImageLoadsAndUnpacksLikeUmoci()
    {
        Requires.Root();
        Requires.Tool("buildah");
        Requires.Tool("umoci");
        using var tmp = new TempDir();
        var rootfs = tmp.CreateDirectory("rootfs");
        Tool.Run("sh", "-c", $"mkdir -p '{rootfs}/bin' '{rootfs}/etc' && cp /bin/busybox '{rootfs}/bin/' && ln -s busybox '{rootfs}/bin/sh' && echo hi > '{rootfs}/etc/motd' && chmod 4755 '{rootfs}/bin/busybox'");
        string[] b = ["--root", tmp.Combine("b-root"), "--runroot", tmp.Combine("b-run"), "--storage-driver", "vfs"];
        var container = Tool.Run("buildah", [.. b, "from", "scratch"]).Stdout.Trim();
        Tool.Run("buildah", [.. b, "copy", container, rootfs + "/", "/"]);
        Tool.Run("buildah", [.. b, "config", "--cmd", "/bin/sh", "--label", "made-by=buildah", container]);
        var archive = tmp.Combine("bb.tar");
        Tool.Run("buildah", [.. b, "commit", "-q", "--format", "oci", container, $"oci-archive:{archive}:bb"]);
        Tool.Run("buildah", [.. b, "rm", container]);

        var root = tmp.CreateDirectory("strata");
        var id = StrataCli.Run(root, "load", "-q", "-i", archive).Ok().Stdout.Trim();
        Assert.Contains("made-by", StrataCli.Run(root, "inspect", id).Ok().Stdout);
        var unpacked = tmp.Combine("unpacked");
        StrataCli.Run(root, "unpack", id, unpacked).Ok();

        var layout = tmp.CreateDirectory("layout");
        Tool.Run("tar", "-xf", archive, "-C", layout);
        var bundle = tmp.Combine("bundle");
        Tool.Run("umoci", "unpack", "--image", $"{layout}:bb", bundle);
        // buildah's layer has no entry for "/": umoci then leaves the root at the epoch, strata at unpack time.
        var diff = TreeComparer.Compare(Path.Combine(bundle, "rootfs"), unpacked, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
        Assert.True(diff.Count == 0, string.Join('\n', diff));
    }
}
