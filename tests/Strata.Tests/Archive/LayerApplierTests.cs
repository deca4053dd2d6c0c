using Strata.Archive.Tar;
using Strata.Tests.Infrastructure;
using static Strata.Tests.Archive.L;

namespace Strata.Tests.Archive;

/// <summary>The OCI layer rules: whiteouts and opaque markers, replacement, attributes.</summary>
public class LayerApplierTests
{
    private static string[] Tree(string root) =>
        Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p)).Order(StringComparer.Ordinal).ToArray();

    [Fact] // row 19
    public void WhiteoutOfASymlinkToADirectoryRemovesTheLinkOnly()
    {
        using var s = new Sandbox();
        s.Apply(Dir("real"), File("real/f"), Sym("ln", "real"));
        s.Apply(Wh(".wh.ln"));
        Assert.Equal(["real", "real/f"], Tree(s.Root));
    }

    [Fact] // row 22
    public void WhiteoutPrefixAsADirectoryIsAnOrdinaryPath()
    {
        using var s = new Sandbox();
        s.Apply(File(".wh.etc/f", "ordinary"));
        Assert.Equal("ordinary", System.IO.File.ReadAllText(s.At(".wh.etc/f")));
    }

    [Fact] // row 24: a whiteout hides lower layers only, whatever the order in its own layer
    public void SameLayerFileSurvivesItsWhiteout()
    {
        using var s = new Sandbox();
        s.Apply(File("a", "lower"), File("b", "lower"));
        s.Apply(Wh(".wh.a"), File("a", "new-a"), File("b", "new-b"), Wh(".wh.b"));
        Assert.Equal("new-a", System.IO.File.ReadAllText(s.At("a")));
        Assert.Equal("new-b", System.IO.File.ReadAllText(s.At("b")));
    }

    [Fact] // rows 25, 26
    public void OpaqueHidesLowerChildrenAppliedFirst()
    {
        using var s = new Sandbox();
        s.Apply(Dir("d"), File("d/old"), Dir("d/sub"), File("d/sub/deep"), File("top"));
        s.Apply(Dir("d"), File("d/new"), Dir("d/sub"), File("d/sub/kept"), Wh("d/.wh..wh..opq"));
        Assert.Equal(["d", "d/new", "d/sub", "d/sub/kept", "top"], Tree(s.Root));
        s.Apply(File("only"), Wh(".wh..wh..opq"));
        Assert.Equal(["only"], Tree(s.Root));
    }

    [Fact] // row 27
    public void MetaWhiteoutsAreSkipped()
    {
        using var s = new Sandbox();
        s.Apply(Wh(".wh..wh.plnk/12345"), Wh(".wh..wh.aufs"));
        Assert.Empty(Tree(s.Root));
    }

    [Fact] // rows 12, 13, 14, 15, 16
    public void ReplacementRules()
    {
        using var s = new Sandbox();
        s.Apply(Dir("keep", "755"), File("keep/child"), File("file"), File("p", "was a file"), Dir("d2"), File("d2/x"));
        s.Apply(Dir("keep", "700"), Dir("file"), File("p/child", "now a dir"), File("d2", "now a file"),
            File("dup", "first"), File("dup", "second"), File("x/y/z/implied"));
        Assert.True(System.IO.File.Exists(s.At("keep/child")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, new DirectoryInfo(s.At("keep")).UnixFileMode);
        Assert.True(Directory.Exists(s.At("file")));
        Assert.Equal("now a dir", System.IO.File.ReadAllText(s.At("p/child")));
        Assert.Equal("now a file", System.IO.File.ReadAllText(s.At("d2")));
        Assert.Equal("second", System.IO.File.ReadAllText(s.At("dup")));
        Assert.True(System.IO.File.Exists(s.At("x/y/z/implied")));
    }

    [Fact] // rows 36, 40, 41; xattrs byte-exact
    public void AttributesAreExact()
    {
        Requires.Root();
        using var s = new Sandbox();
        var suid = File("bin/suid", "x", "4755", uid: 1000, gid: 1000);
        var capBytes = new byte[] { 1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        suid.Xattrs["security.capability"] = capBytes;
        suid.Xattrs["user.bin"] = [0xff, 0x00, 0xfe, 0x80];
        suid.MTimeNanoseconds = 123456789;
        s.Apply(Dir("bin", "755", mtime: 1_000_000_000), suid, Dir("sticky", "1777"),
            new TarEntry { Name = "fifo", Type = TarEntryType.Fifo, Mode = Oct("600") },
            new TarEntry { Name = "null", Type = TarEntryType.CharDevice, Mode = Oct("666"), DevMajor = 1, DevMinor = 3 },
            new TarEntry { Name = "loop", Type = TarEntryType.BlockDevice, Mode = Oct("660"), DevMajor = 7, DevMinor = 200 });
        var ls = Tool.Run("stat", "-c", "%n %a %u:%g %F %t:%T %y", s.At("bin/suid"), s.At("sticky"), s.At("fifo"), s.At("null"), s.At("loop"), s.At("bin")).Stdout;
        Assert.Contains("bin/suid 4755 1000:1000 regular file 0:0 2020-09-13 12:26:40.123456789", ls);
        Assert.Contains("sticky 1777 0:0 directory", ls);
        Assert.Contains("fifo 600 0:0 fifo", ls);
        Assert.Contains("null 666 0:0 character special file 1:3", ls);
        Assert.Contains("loop 660 0:0 block special file 7:c8", ls);
        Assert.Contains("bin 755 0:0 directory 0:0 2001-09-09 01:46:40.000000000", ls); // set after its child was written
        var caps = Tool.Run("getfattr", "-e", "hex", "-d", "-m", "-", s.At("bin/suid")).Stdout;
        Assert.Contains("security.capability=0x0100000200200000000000000000000000000000", caps);
        Assert.Contains("user.bin=0xff00fe80", caps);
    }

    [Fact] // row 43
    public void SparseFilesKeepTheirHoles()
    {
        using var s = new Sandbox();
        var content = new byte[64 << 20];
        content[32 << 20] = 1;
        s.Apply(new TarEntry { Name = "sparse", Size = content.Length, Mode = Oct("644"), SparseMap = [(32 << 20, 4096)], Data = new MemoryStream(content) });
        var blocks = long.Parse(Tool.Run("stat", "-c", "%b", s.At("sparse")).Stdout.Trim());
        Assert.True(blocks < 1024, $"{blocks} blocks: the holes were written");
        Assert.Equal(content.Length, new FileInfo(s.At("sparse")).Length);
    }
}
