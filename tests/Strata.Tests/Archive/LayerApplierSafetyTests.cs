using Strata.Errors;
using static Strata.Tests.Archive.L;

namespace Strata.Tests.Archive;

/// <summary>
/// Hostile layers (the edge-case table of specs-and-edge-cases.md section 7, and the CVEs behind it): a clear
/// error naming the entry, or a write that lands inside the root; never anything outside it.
/// </summary>
public class LayerApplierSafetyTests
{
    private static void AssertRejected(Sandbox s, string entryName, params Strata.Archive.Tar.TarEntry[] entries)
    {
        var e = Assert.Throws<StrataException>(() => s.Apply(entries));
        Assert.Equal(ErrorKind.InvalidContent, e.Kind);
        Assert.Contains(entryName, e.Message);
        s.AssertOutsideUntouched();
    }

    [Theory] // row 2
    [InlineData("../outside/sentinel")]
    [InlineData("a/../../outside/pwned")]
    [InlineData("../../../../../../../../tmp/strata-pwned")]
    public void DotDotNamesAreRefused(string name)
    {
        using var s = new Sandbox();
        AssertRejected(s, name, File(name, "pwned"));
        Assert.False(System.IO.File.Exists("/tmp/strata-pwned"));
    }

    [Fact] // row 1
    public void AbsoluteNamesAreRootRelative()
    {
        using var s = new Sandbox();
        s.Apply(File(s.Outside + "/sentinel", "inside"));
        Assert.Equal("inside", System.IO.File.ReadAllText(s.At(s.Outside.TrimStart('/') + "/sentinel")));
        s.AssertOutsideUntouched();
    }

    [Fact] // rows 3, 4 (CVE-2021-29136)
    public void TheRootIsNeverReplaced()
    {
        using var s = new Sandbox();
        s.Apply(Sym(".", "/"), Sym("./", s.Outside), File("after", "a"));
        Assert.True(Directory.Exists(s.Root) && !new DirectoryInfo(s.Root).Attributes.HasFlag(FileAttributes.ReparsePoint));
        Assert.Equal("a", System.IO.File.ReadAllText(s.At("after")));
        s.AssertOutsideUntouched();
    }

    [Fact] // row 5: parent components that are symlinks, absolute and relative, resolve inside the root
    public void SymlinkedParentsResolveInsideTheRoot()
    {
        using var s = new Sandbox();
        s.Apply(
            Sym("abs", s.Outside),
            File("abs/sentinel", "pwned"),
            Sym("up", "../../../../../../../.."),
            File("up" + s.Outside + "/sub/f", "pwned"),
            Sym("chain1", "chain2"), Sym("chain2", "abs"),
            File("chain1/third", "in root"));
        Assert.Equal("pwned", System.IO.File.ReadAllText(s.At(s.Outside.TrimStart('/') + "/sentinel")));
        Assert.Equal("in root", System.IO.File.ReadAllText(s.At(s.Outside.TrimStart('/') + "/third")));
        s.AssertOutsideUntouched();
    }

    [Fact] // row 6
    public void DirectoryThenSymlinkThenFile()
    {
        using var s = new Sandbox();
        s.Apply(Dir("d"), Sym("d", "/"), File("d/x", "1"), Sym("d", s.Outside), File("d/sentinel", "2"), Dir("d"), File("d/y", "3"));
        Assert.Equal("1", System.IO.File.ReadAllText(s.At("x")));
        Assert.Equal("3", System.IO.File.ReadAllText(s.At("d/y")));
        s.AssertOutsideUntouched();
    }

    [Fact] // row 7
    public void SymlinkTargetsAreWrittenVerbatim()
    {
        using var s = new Sandbox();
        s.Apply(Sym("abs", "/etc/passwd"), Sym("rel", "../../../x"));
        Assert.Equal("/etc/passwd", new FileInfo(s.At("abs")).LinkTarget);
        Assert.Equal("../../../x", new FileInfo(s.At("rel")).LinkTarget);
    }

    [Fact] // row 8: hard links never reach a host file
    public void HardLinksStayInside()
    {
        using var s = new Sandbox();
        AssertRejected(s, "h1", Hard("h1", "../outside/sentinel"));
        AssertRejected(s, "h2", Sym("lp", s.Outside), Hard("h2", "lp/sentinel"));
        AssertRejected(s, "h3", Hard("h3", s.Outside + "/sentinel"));
    }

    [Fact] // rows 9, 10 (CVE-2021-32760): a hard link to a symlink links the symlink; no chmod through it
    public void HardLinkToSymlinkThenChmod()
    {
        using var s = new Sandbox();
        var before = new FileInfo(s.Outside + "/sentinel").UnixFileMode;
        s.Apply(Sym("s", s.Outside + "/sentinel"), Hard("hs", "s"), File("hs", "replaced", mode: "777"), Dir("s", "777"));
        Assert.Equal(before, new FileInfo(s.Outside + "/sentinel").UnixFileMode);
        Assert.Equal("replaced", System.IO.File.ReadAllText(s.At("hs")));
        s.AssertOutsideUntouched();
    }

    [Theory] // rows 17, 18
    [InlineData(".wh.")]
    [InlineData(".wh..")]
    [InlineData(".wh...")]
    [InlineData("d/.wh..")]
    public void InvalidWhiteoutsAreRefused(string name)
    {
        using var s = new Sandbox();
        AssertRejected(s, name, Dir("d"), Wh(name));
    }

    [Fact] // row 20
    public void WhiteoutUnderASymlinkedParentStaysInside()
    {
        using var s = new Sandbox();
        s.Apply(Sym("sym", s.Outside), Wh("sym/.wh.sentinel"), Wh("sym/.wh.sub"));
        s.AssertOutsideUntouched();
    }

    [Fact] // rows 21, 23
    public void WhiteoutsOfNothingAreNoOps()
    {
        using var s = new Sandbox();
        s.Apply(Sym("dang", "/nonexistent"), Wh("dang/.wh.x"), Wh(".wh.absent"), Wh("no/such/.wh.dir"));
        Assert.False(Directory.Exists(s.At("no")));
        s.AssertOutsideUntouched();
    }

    [Fact] // row 32
    public void OverlayPrivateXattrsAreRefused()
    {
        using var s = new Sandbox();
        var e = File("f");
        e.Xattrs["trusted.overlay.redirect"] = "/etc"u8.ToArray();
        AssertRejected(s, "f", e);
    }
}
