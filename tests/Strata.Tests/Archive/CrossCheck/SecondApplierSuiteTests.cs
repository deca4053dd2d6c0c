using System.Diagnostics;
using Strata.Archive;
using Strata.Archive.Tar;
using static Strata.Tests.Archive.CrossCheck.LayerFixture;

namespace Strata.Tests.Archive.CrossCheck;

public sealed class SecondApplierSuiteTests : IDisposable
{
    private readonly LayerFixture _f = new();

    public void Dispose() => _f.Dispose();

    private void Lower(string relative, string content = "lower")
    {
        string full = _f.In(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
    }

    [Fact]
    public void WhiteoutAndFileInTheSameLayerKeepTheFileInEitherOrder()
    {
        Lower("f");
        Lower("g");
        Lower("d/old");
        _f.Apply(File_("f", "new"), Whiteout(".wh.f"), Whiteout(".wh.g"), File_("g", "new"),
            File_("d/new", "n"), Whiteout(".wh.d"));
        Assert.Equal("new", File.ReadAllText(_f.In("f")));
        Assert.Equal("new", File.ReadAllText(_f.In("g")));
        Assert.True(File.Exists(_f.In("d/new")));
        Assert.False(Exists(_f.In("d/old")));
    }

    [Fact]
    public void WhiteoutDirectoryComponentIsAnOrdinaryPath()
    {
        _f.Apply(File_(".wh.etc/f", "x"));
        Assert.Equal("x", File.ReadAllText(_f.In(".wh.etc/f")));
    }

    [Fact]
    public void WhiteoutRemovesLowerSubtree()
    {
        Lower("d/a/b/c");
        Lower("keep");
        Directory.CreateDirectory(_f.In("x/y"));
        var r = _f.Apply(Whiteout(".wh.d"), Dir("x", 0x1ED), Whiteout("x/.wh.y"));
        Assert.False(Exists(_f.In("d")));
        Assert.False(Exists(_f.In("x/y")));
        Assert.True(File.Exists(_f.In("keep")));
        Assert.Equal(3, r.Entries);
    }

    [Fact]
    public void OpaqueAfterSiblingsKeepsSameLayerChildren()
    {
        Lower("d/old1");
        Lower("d/sub/old2");
        Lower("other");
        _f.Apply(Dir("d"), File_("d/new", "n"), Dir("d/sub"), File_("d/sub/new2", "n2"), Whiteout("d/.wh..wh..opq"));
        Assert.True(File.Exists(_f.In("d/new")));
        Assert.True(File.Exists(_f.In("d/sub/new2")));
        Assert.False(Exists(_f.In("d/old1")));
        Assert.False(Exists(_f.In("d/sub/old2")));
        Assert.True(File.Exists(_f.In("other")));
        Assert.False(Exists(_f.In("d/.wh..wh..opq")));
    }

    [Fact]
    public void OpaqueAtRootClearsAllLowerContent()
    {
        Lower("a");
        Lower("b/c");
        _f.Apply(File_("n", "n"), Whiteout(".wh..wh..opq"));
        Assert.Equal(["n"], Directory.EnumerateFileSystemEntries(_f.Root).Select(Path.GetFileName));
    }

    [Fact]
    public void AufsMetadataIsSkipped()
    {
        _f.Apply(Dir(".wh..wh.plnk"), File_(".wh..wh.plnk/1234.5", "x"), File_(".wh..wh.aufs", "x"), File_("d/.wh..wh.orph", "x"));
        Assert.False(Exists(_f.In(".wh..wh.plnk")));
        Assert.False(Exists(_f.In(".wh..wh.aufs")));
        Assert.False(Exists(_f.In("d/.wh..wh.orph")));
    }

    [Fact]
    public void WhiteoutBodyAndTypeAreIgnored()
    {
        Lower("a");
        Lower("b");
        _f.Apply(File_(".wh.a", "some body"), Dir(".wh.b"));
        Assert.False(Exists(_f.In("a")));
        Assert.False(Exists(_f.In("b")));
    }

    [Fact]
    public void ExistingDirectoryIsKeptAndItsAttributesUpdated()
    {
        Lower("d/child");
        _f.Apply(Dir("d", 0x1C0));
        Assert.True(File.Exists(_f.In("d/child")));
        Assert.Equal(0x1C0, Stat(_f.In("d")).Permissions);
    }

    [Fact]
    public void ExistingFileIsReplacedByDirectoryAndDirectoryByFile()
    {
        Lower("f");
        Lower("d/child");
        _f.Apply(Dir("f"), File_("f/inner", "i"), File_("d", "now a file"));
        Assert.True(Stat(_f.In("f")).IsDirectory);
        Assert.Equal("now a file", File.ReadAllText(_f.In("d")));
    }

    [Fact]
    public void ReplacedFileDoesNotChangeLowerHardLinks()
    {
        Lower("f", "old");
        File.CreateSymbolicLink(_f.In("s"), "f");
        Assert.Equal(0, XLibc.TryLinkAt(XLibc.AT_FDCWD, _f.In("f"), XLibc.AT_FDCWD, _f.In("g")));
        _f.Apply(File_("f", "new"), File_("s", "not through the link"));
        Assert.Equal("new", File.ReadAllText(_f.In("f")));
        Assert.Equal("old", File.ReadAllText(_f.In("g")));
        Assert.False(Stat(_f.In("s")).IsSymlink);
    }

    [Fact]
    public void DuplicatePathsLastWins()
    {
        _f.Apply(File_("p", "1"), File_("p", "2"), Dir("q"), File_("q/x", "x"), File_("q", "file"), Dir("r", 0x1C0), Dir("r", 0x1ED),
            File_("s", "file"), Sym("s", "target"));
        Assert.Equal("2", File.ReadAllText(_f.In("p")));
        Assert.Equal("file", File.ReadAllText(_f.In("q")));
        Assert.Equal(0x1ED, Stat(_f.In("r")).Permissions);
        Assert.Equal("target", new FileInfo(_f.In("s")).LinkTarget);
    }

    [Fact]
    public void ParentThatIsAFileIsReplacedByADirectory()
    {
        Lower("a", "file");
        _f.Apply(File_("a/b", "x"));
        Assert.True(Stat(_f.In("a")).IsDirectory);
        Assert.Equal("x", File.ReadAllText(_f.In("a/b")));
    }

    [Fact]
    public void MissingParentsAreCreatedWith0755()
    {
        _f.Apply(File_("a/b/c/f", "x"));
        Assert.Equal("x", File.ReadAllText(_f.In("a/b/c/f")));
        Assert.Equal(0x1ED, Stat(_f.In("a")).Permissions);
        Assert.Equal(0x1ED, Stat(_f.In("a/b/c")).Permissions);
    }

    [Fact]
    public void SetuidAndSetgidSurviveChown()
    {
        Assert.SkipUnless(XLibc.GetEuid() == 0, "chown needs root");
        var f = File_("suid", "x", 0x9ED); // 04755
        f.Uid = 1000;
        f.Gid = 1000;
        var d = Dir("sgid", 0x5ED); // 02755
        d.Uid = 1001;
        d.Gid = 1002;
        _f.Apply(f, d);
        var sf = Stat(_f.In("suid"));
        Assert.Equal((0x9ED, 1000, 1000), (sf.Permissions, sf.Uid, sf.Gid));
        var sd = Stat(_f.In("sgid"));
        Assert.Equal((0x5ED, 1001, 1002), (sd.Permissions, sd.Uid, sd.Gid));
    }

    [Fact]
    public void OwnershipIsNotAppliedWhenNotPreserved()
    {
        var f = File_("f", "x");
        f.Uid = 1234;
        LayerApplier.Apply(_f.Root, [f], new ApplyOptions { PreserveOwnership = false });
        Assert.Equal((int)XLibc.GetEuid(), Stat(_f.In("f")).Uid);
    }

    [Fact]
    public void DirectoryMtimesAreSetAfterChildrenAndAtNanosecondPrecision()
    {
        var d = Dir("d");
        d.MTimeSeconds = 1_000_000_000;
        d.MTimeNanoseconds = 123_456_789;
        var f = File_("d/f", "x");
        f.MTimeSeconds = 1_700_000_000;
        f.MTimeNanoseconds = 987_654_321;
        var s = Sym("d/s", "nowhere");
        s.MTimeSeconds = 1_600_000_000;
        s.MTimeNanoseconds = 5;
        _f.Apply(d, f, s, Dir("d/sub"), File_("d/sub/g", "y"));
        var sd = Stat(_f.In("d"));
        Assert.Equal((1_000_000_000L, 123_456_789), (sd.MTimeSeconds, sd.MTimeNanoseconds));
        var sf = Stat(_f.In("d/f"));
        Assert.Equal((1_700_000_000L, 987_654_321), (sf.MTimeSeconds, sf.MTimeNanoseconds));
        var ss = Stat(_f.In("d/s"));
        Assert.Equal((1_600_000_000L, 5), (ss.MTimeSeconds, ss.MTimeNanoseconds));
    }

    [Fact]
    public void BinaryXattrsAreExact()
    {
        // VFS_CAP_REVISION_2, CAP_NET_BIND_SERVICE permitted, effective.
        byte[] cap = [0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] bin = [0x00, 0xFF, 0x80, 0x00, 0x7F];
        var f = File_("f", "x", 0x1ED);
        f.Xattrs["security.capability"] = cap;
        f.Xattrs["user.bin"] = bin;
        var d = Dir("d");
        d.Xattrs["user.empty"] = [];
        _f.Apply(f, d);
        Assert.Equal(cap, XLibc.LGetXattr(_f.In("f"), "security.capability"));
        Assert.Equal(bin, XLibc.LGetXattr(_f.In("f"), "user.bin"));
        Assert.Empty(XLibc.LGetXattr(_f.In("d"), "user.empty")!);
        Assert.Contains("user.bin", XLibc.LListXattr(_f.In("f")));
    }

    [Fact]
    public void FifosAndDevicesAreCreated()
    {
        Assert.SkipUnless(XLibc.GetEuid() == 0, "mknod of devices needs CAP_MKNOD");
        var c = new TarEntry { Name = "dev/null", Type = TarEntryType.CharDevice, Mode = 0x1B6, DevMajor = 1, DevMinor = 3 };
        var b = new TarEntry { Name = "dev/big", Type = TarEntryType.BlockDevice, Mode = 0x180, DevMajor = 259, DevMinor = 300_000 };
        var p = new TarEntry { Name = "fifo", Type = TarEntryType.Fifo, Mode = 0x1A4 };
        _f.Apply(c, b, p);
        var sc = Stat(_f.In("dev/null"));
        Assert.Equal((XLibc.S_IFCHR, 0x1B6, 1u, 3u), (sc.Type, sc.Permissions, sc.RdevMajor, sc.RdevMinor));
        var sb = Stat(_f.In("dev/big"));
        Assert.Equal((XLibc.S_IFBLK, 259u, 300_000u), (sb.Type, sb.RdevMajor, sb.RdevMinor));
        Assert.Equal(XLibc.S_IFIFO, Stat(_f.In("fifo")).Type);
    }

    [Fact]
    public void SparseFilesGetHoles()
    {
        const int size = 16 << 20;
        var content = new byte[size];
        content.AsSpan(0, 4096).Fill(0xAA);
        content.AsSpan(8 << 20, 4096).Fill(0xBB);
        var e = new TarEntry
        {
            Name = "sparse", Mode = 0x1A4, Size = size, Data = new MemoryStream(content),
            SparseMap = [(0, 4096), (8 << 20, 4096)],
        };
        var r = _f.Apply(e);
        var st = Stat(_f.In("sparse"));
        Assert.Equal(size, st.Size);
        Assert.True(st.Blocks * 512 <= 64 * 1024, $"{st.Blocks} blocks allocated");
        Assert.Equal(content, File.ReadAllBytes(_f.In("sparse")));
        Assert.Equal(size, r.Bytes); // Strata counts the logical content applied
    }

    [Fact]
    public void HardLinksShareTheInode()
    {
        _f.Apply(File_("a", "x"), Dir("d"), Link("d/b", "a"), Link("c", "./d/../a"));
        var a = Stat(_f.In("a"));
        Assert.Equal(3u, a.Nlink);
        Assert.Equal(a.Inode, Stat(_f.In("d/b")).Inode);
        Assert.Equal(a.Inode, Stat(_f.In("c")).Inode);
    }

    [Fact]
    public void SymlinkTargetsAreVerbatim()
    {
        _f.Apply(Sym("abs", "/etc/passwd"), Sym("rel", "../../../x"), Sym("odd", "a//b/./c/"));
        Assert.Equal("/etc/passwd", new FileInfo(_f.In("abs")).LinkTarget);
        Assert.Equal("../../../x", new FileInfo(_f.In("rel")).LinkTarget);
        Assert.Equal("a//b/./c/", new FileInfo(_f.In("odd")).LinkTarget);
    }

    [Fact]
    public void LargeLayerAppliesQuickly()
    {
        // Typically 150-250 ms on tmpfs; the bound leaves room for a loaded CI machine.
        // 6,600 entries, about 120 MB: 600 directories of 10 files of 18 KiB and one 10 MB file each 100 dirs.
        var small = new byte[18 * 1024];
        var big = new byte[10 << 20];
        Random.Shared.NextBytes(small);
        var entries = new List<TarEntry>();
        for (int d = 0; d < 600; d++)
        {
            entries.Add(Dir($"dir{d:D4}"));
            for (int i = 0; i < 10; i++)
            {
                var data = d % 100 == 0 && i == 0 ? big : small;
                entries.Add(new TarEntry { Name = $"dir{d:D4}/file{i}", Mode = 0x1A4, Size = data.Length, Data = new MemoryStream(data, false) });
            }
        }
        var sw = Stopwatch.StartNew();
        var r = _f.Apply([.. entries]);
        sw.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"{r.Entries} entries, {r.Bytes / 1e6:F1} MB in {sw.ElapsedMilliseconds} ms");
        Assert.Equal(6600, r.Entries);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"took {sw.ElapsedMilliseconds} ms");
    }
}
