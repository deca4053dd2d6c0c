using Strata.Errors;
using Strata.Fuse;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Fuse;

/// <summary>strata-overlay reads fuse-overlayfs's command line as podman and mount.fuse3 write it, and its own options.</summary>
public class OverlayMountOptionsTests
{
    [Fact]
    public void PodmansCommandLine()
    {
        Requires.Root(); // as root of the machine (without, the rootless form is the default)
        using var tmp = new TempDir();
        string l1 = tmp.CreateDirectory("l1"), l2 = tmp.CreateDirectory("l2"), u = tmp.CreateDirectory("u"), w = tmp.CreateDirectory("w"), m = tmp.CreateDirectory("m");
        var o = OverlayMountOptions.Parse(["-o", $"lowerdir={l1}:{l2},upperdir={u},workdir={w},fsync=0", "-o", "noatime", m]);
        Assert.Equal([l1, l2], o.LowersTopFirst);
        Assert.Equal((u, w, m, "strata-overlay", false), (o.Upper, o.Work, o.MountPoint, o.Source, o.Foreground));
        Assert.True(o.Passthrough);
        Assert.Null(o.LogPath);
        Assert.Equal((false, false), (o.UserXattrs, o.OwnersInXattrs)); // root of the machine: the kernel's form
    }

    [Fact]
    public void MountHelpersCommandLineAndStrataOptions()
    {
        using var tmp = new TempDir();
        string l = tmp.CreateDirectory("l"), m = tmp.CreateDirectory("m");
        var o = OverlayMountOptions.Parse(["mysource", m, $"-olowerdir={l},nopassthrough,log={tmp.Path}/x.log,userxattr", "-f"]);
        Assert.Equal(("mysource", m, true, false, true, false), (o.Source, o.MountPoint, o.Foreground, o.Passthrough, o.UserXattrs, o.OwnersInXattrs));
        Assert.Null(o.Upper);
        Assert.Equal($"{tmp.Path}/x.log", o.LogPath);
    }

    [Fact]
    public void XattrPermissions2IsTheRootlessForm()
    {
        using var tmp = new TempDir();
        var o = OverlayMountOptions.Parse(["-o", $"lowerdir={tmp.CreateDirectory("l")},xattr_permissions=2", tmp.CreateDirectory("m")]);
        Assert.Equal((true, true), (o.UserXattrs, o.OwnersInXattrs));
    }

    [Theory]
    [InlineData("upperdir=/u", "no lowerdir")]
    [InlineData("lowerdir=/nonexistent-strata-layer", "is not a directory")]
    [InlineData("lowerdir=/,upperdir=/tmp", "upperdir needs a workdir")]
    public void BadOptionsAreOneLineErrors(string options, string message)
    {
        var e = Assert.ThrowsAny<StrataException>(() => OverlayMountOptions.Parse(["-o", options, "/mnt"]));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
