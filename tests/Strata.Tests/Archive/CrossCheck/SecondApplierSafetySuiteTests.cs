using Strata.Errors;
using static Strata.Tests.Archive.CrossCheck.LayerFixture;

namespace Strata.Tests.Archive.CrossCheck;

/// <summary>Hostile layers: nothing outside the root is created, changed or followed.</summary>
public sealed class SecondApplierSafetySuiteTests : IDisposable
{
    private readonly LayerFixture _f = new();

    public void Dispose() => _f.Dispose();

    private void AssertRejected(string fragment, params Strata.Archive.Tar.TarEntry[] entries)
    {
        var e = Assert.Throws<StrataException>(() => _f.Apply(entries));
        Assert.Equal(ErrorKind.InvalidContent, e.Kind);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        _f.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("../outside/sentinel")]
    [InlineData("a/../../outside/pwned")]
    [InlineData("/../outside/pwned")]
    public void DotDotNamesAreRejected(string name) =>
        AssertRejected($"layer entry \"{name}\": path escapes the root", File_(name, "x"));

    [Fact]
    public void AbsoluteNamesAreRootRelative()
    {
        _f.Apply(Dir("/etc"), File_("/etc/pwned", "x"), File_("//pwned", "y"));
        Assert.Equal("x", File.ReadAllText(_f.In("etc/pwned")));
        Assert.Equal("y", File.ReadAllText(_f.In("pwned")));
        _f.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData(".")]
    [InlineData("./")]
    [InlineData("/")]
    [InlineData("a/..")]
    public void RootEntryIsNeverReplaced(string name)
    {
        var before = Stat(_f.Root);
        _f.Apply(Dir(name, 0x1C0), File_("f", "x"));
        var after = Stat(_f.Root);
        Assert.Equal(before.Inode, after.Inode);
        Assert.Equal(0x1C0, after.Permissions); // Strata's policy (as umoci): a directory entry for the root sets its attributes
        Assert.True(File.Exists(_f.In("f")));
        _f.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData(".")]
    [InlineData("/")]
    public void SymlinkNamedRootIsSkipped(string name)
    {
        _f.Apply(Sym(name, _f.Outside), File_("pwned", "x"));
        Assert.True(Stat(_f.Root).IsDirectory);
        Assert.Equal("x", File.ReadAllText(_f.In("pwned")));
        _f.AssertOutsideUntouched();
    }

    [Fact]
    public void ParentSymlinkToAbsoluteDirResolvesInsideRoot()
    {
        _f.Apply(Sym("localetc", "/etc"), File_("localetc/pwned", "x"), Sym("out", _f.Outside), File_("out/pwned", "y"));
        Assert.Equal("x", File.ReadAllText(_f.In("etc/pwned")));
        Assert.Equal("y", File.ReadAllText(_f.In(_f.Outside.TrimStart('/') + "/pwned")));
        Assert.True(Stat(_f.In("localetc")).IsSymlink);
        _f.AssertOutsideUntouched();
    }

    [Fact]
    public void ParentSymlinkUpAndOutResolvesInsideRoot()
    {
        _f.Apply(Sym("up", "../.."), File_("up/pwned", "x"),
            Sym("a", "b"), Sym("b", "../outside"), File_("a/sentinel", "overwritten?"));
        Assert.Equal("x", File.ReadAllText(_f.In("pwned")));
        Assert.Equal("overwritten?", File.ReadAllText(_f.In("outside/sentinel")));
        _f.AssertOutsideUntouched();
    }

    [Fact]
    public void DirThenSymlinkToSlashThenFileStaysInside()
    {
        _f.Apply(Dir("d"), Sym("d", "/"), File_("d/pwned", "x"), Dir("d"), File_("d/inner", "y"),
            Sym("e", _f.Base), File_("e/outside/sentinel", "z"));
        Assert.Equal("x", File.ReadAllText(_f.In("pwned")));
        Assert.True(Stat(_f.In("d")).IsDirectory);
        Assert.Equal("y", File.ReadAllText(_f.In("d/inner")));
        Assert.Equal("z", File.ReadAllText(_f.In(_f.Base.TrimStart('/') + "/outside/sentinel")));
        _f.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData("../outside/sentinel")]
    [InlineData("a/../../outside/sentinel")]
    public void HardLinkTargetEscapingIsRejected(string target) =>
        AssertRejected("escapes the root", Link("x", target));

    [Fact]
    public void HardLinkNameEscapingIsRejected() =>
        AssertRejected("path escapes the root", File_("f", "x"), Link("../outside/pwned", "f"));

    [Fact]
    public void HardLinkAbsoluteTargetIsRootRelative()
    {
        var e = Assert.Throws<StrataException>(() => _f.Apply(Link("x", _f.Sentinel)));
        Assert.Contains("not found", e.Message, StringComparison.Ordinal);
        _f.Apply(Dir("etc"), File_("etc/passwd", "root:x:0:0"), Link("x", "/etc/passwd"));
        Assert.Equal(Stat(_f.In("etc/passwd")).Inode, Stat(_f.In("x")).Inode);
        _f.AssertOutsideUntouched();
    }

    [Fact]
    public void HardLinkThroughSymlinkedParentResolvesInsideRoot()
    {
        Assert.Throws<StrataException>(() => _f.Apply(Sym("out", _f.Outside), Link("x", "out/sentinel")));
        Assert.Throws<StrataException>(() => _f.Apply(Sym("rel", "../outside"), Link("y", "rel/sentinel")));
        _f.AssertOutsideUntouched();
        Assert.Equal(1u, Stat(_f.Sentinel).Nlink);

        _f.Apply(Dir("real"), File_("real/f", "x"), Sym("rel2", "../../real"), Link("z", "rel2/f"));
        Assert.Equal(Stat(_f.In("real/f")).Inode, Stat(_f.In("z")).Inode);
    }

    [Fact]
    public void HardLinkToSymlinkLinksTheSymlinkAndNeverChmodsThroughIt()
    {
        // CVE-2021-32760: a hard link to a symlink pointing outside, then entries that set a mode on it.
        _f.Apply(Sym("s", _f.Sentinel), Link("h", "s", mode: 0xFFF), Link("h", "s", mode: 0x1FF));
        var h = Stat(_f.In("h"));
        Assert.True(h.IsSymlink);
        Assert.Equal(Stat(_f.In("s")).Inode, h.Inode);
        Assert.Equal(_f.Sentinel, File.ResolveLinkTarget(_f.In("h"), false)!.FullName);
        _f.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData(".wh.")]
    [InlineData(".wh..")]
    [InlineData(".wh...")]
    [InlineData("d/.wh..")]
    [InlineData("d/.wh...")]
    public void InvalidWhiteoutsAreRejected(string name)
    {
        Directory.CreateDirectory(_f.In("d"));
        AssertRejected("invalid whiteout", Whiteout(name));
        Assert.True(Directory.Exists(_f.In("d")));
    }

    [Fact]
    public void WhiteoutUnderSymlinkedParentResolvesInsideRoot()
    {
        Directory.CreateDirectory(_f.In("real"));
        File.WriteAllText(_f.In("real/x"), "x");
        File.CreateSymbolicLink(_f.In("link"), "/real");
        File.CreateSymbolicLink(_f.In("out"), _f.Outside);
        File.CreateSymbolicLink(_f.In("rel"), "../outside");
        _f.Apply(Whiteout("link/.wh.x"), Whiteout("out/.wh.sentinel"), Whiteout("rel/.wh.sentinel"));
        Assert.False(Exists(_f.In("real/x")));
        _f.AssertOutsideUntouched();
    }

    [Fact]
    public void WhiteoutUnderDanglingSymlinkIsNoOp()
    {
        File.CreateSymbolicLink(_f.In("dang"), "/nonexistent");
        File.WriteAllText(_f.In("file"), "f");
        _f.Apply(Whiteout("dang/.wh.x"), Whiteout("file/.wh.x"), Whiteout("absent/.wh.x"), Whiteout(".wh.absent"));
        Assert.True(Stat(_f.In("dang")).IsSymlink);
        _f.AssertOutsideUntouched();
    }

    [Fact]
    public void WhiteoutOfSymlinkToDirRemovesOnlyTheSymlink()
    {
        Directory.CreateDirectory(_f.In("d"));
        File.WriteAllText(_f.In("d/f"), "f");
        File.CreateSymbolicLink(_f.In("l"), "d");
        File.CreateSymbolicLink(_f.In("o"), _f.Outside);
        _f.Apply(Whiteout(".wh.l"), Whiteout(".wh.o"));
        Assert.False(Exists(_f.In("l")));
        Assert.False(Exists(_f.In("o")));
        Assert.True(File.Exists(_f.In("d/f")));
        _f.AssertOutsideUntouched();
    }

    [Fact]
    public void WhiteoutOfDirectoryNeverFollowsSymlinksInside()
    {
        Directory.CreateDirectory(_f.In("d"));
        File.CreateSymbolicLink(_f.In("d/o"), _f.Outside);
        _f.Apply(Whiteout(".wh.d"));
        Assert.False(Exists(_f.In("d")));
        _f.AssertOutsideUntouched();
    }

    [Fact]
    public void SymlinkLoopInParentFailsWithOneLineError()
    {
        var e = Assert.Throws<StrataException>(() => _f.Apply(Sym("l1", "l2"), Sym("l2", "l1"), File_("l1/f", "x")));
        Assert.StartsWith("layer entry \"l1/f\": ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        _f.AssertOutsideUntouched();
    }

    [Fact]
    public void TrustedOverlayXattrIsRefused()
    {
        var e = File_("f", "x");
        e.Xattrs["trusted.overlay.opaque"] = "y"u8.ToArray();
        AssertRejected("trusted.overlay.opaque", e);
        Assert.False(Exists(_f.In("f")));
    }
}
