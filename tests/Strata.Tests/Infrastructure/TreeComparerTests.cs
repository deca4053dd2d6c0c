namespace Strata.Tests.Infrastructure;

/// <summary>TreeComparer must see nothing in a faithful copy, and each kind of damage in a broken one.</summary>
public class TreeComparerTests
{
    [Fact]
    public void CopyOfKitchensinkIsIdentical()
    {
        var image = SampleImages.Get("kitchensink");
        using var dir = new TempDir("cmp");
        var copy = dir.Combine("copy");
        Tool.Run("cp", "-a", image.RootfsFromUmoci, copy);
        Assert.Empty(TreeComparer.Compare(image.RootfsFromUmoci, copy));
    }

    [Theory]
    [InlineData("mode", "file: mode 0644 != 0600")]
    [InlineData("xattr", "file: xattr user.bin 0xff00fe80 != 0xff00fe81")]
    [InlineData("mtime", "file: mtime 2020-01-02T03:04:05.123456789Z != 2020-01-02T03:04:05.123456788Z")]
    [InlineData("content", "file: content sha256 ")]
    [InlineData("symlink", "link: symlink target 'file' != 'pair-a'")]
    [InlineData("hardlink", "pair-a: hard links [pair-a, pair-b] != [pair-a]")]
    [InlineData("missing", "dir/inner: missing (file)")]
    public void FindsEachKindOfDamage(string damage, string expectedLine)
    {
        Requires.Tool("setfattr");
        using var dir = new TempDir("cmp");
        var a = MakeSmallTree(dir.Combine("a"));
        var b = dir.Combine("b");
        Tool.Run("cp", "-a", a, b);
        Assert.Empty(TreeComparer.Compare(a, b));

        string P(string rel) => Path.Combine(b, rel);
        switch (damage)
        {
            case "mode": Tool.Run("chmod", "0600", P("file")); break;
            case "xattr": Tool.Run("setfattr", "-n", "user.bin", "-v", "0xff00fe81", P("file")); break;
            case "mtime": Tool.Run("touch", "-d", "2020-01-02 03:04:05.123456788", P("file")); break;
            case "content": File.WriteAllText(P("file"), "jello"); Tool.Run("touch", "-r", Path.Combine(a, "file"), P("file")); break;
            case "symlink": File.Delete(P("link")); File.CreateSymbolicLink(P("link"), "pair-a"); break;
            case "hardlink": Tool.Run("cp", "-a", P("pair-b"), P("tmp")); File.Move(P("tmp"), P("pair-b"), overwrite: true); break;
            case "missing": File.Delete(P("dir/inner")); break;
        }
        // Restore the mtimes the damage itself moved, so the damage is the only difference.
        Tool.Run("touch", "-h", "-r", Path.Combine(a, "link"), P("link"));
        Tool.Run("touch", "-r", a, b);
        Tool.Run("touch", "-r", Path.Combine(a, "dir"), P("dir"));

        var diffs = TreeComparer.Compare(a, b);
        Assert.Contains(diffs, d => d.StartsWith(expectedLine, StringComparison.Ordinal));
        if (damage == "hardlink")
            Assert.Equal(["pair-a: hard links [pair-a, pair-b] != [pair-a]", "pair-b: hard links [pair-a, pair-b] != [pair-b]"], diffs);
        else
            Assert.Single(diffs);
    }

    [Fact]
    public void IgnoredMtimesAreNotReported()
    {
        using var dir = new TempDir("cmp");
        var a = MakeSmallTree(dir.Combine("a"));
        var b = dir.Combine("b");
        Tool.Run("cp", "-a", a, b);
        Tool.Run("touch", b);
        Assert.Single(TreeComparer.Compare(a, b));
        Assert.Empty(TreeComparer.Compare(a, b, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } }));
    }

    private static string MakeSmallTree(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "dir"));
        File.WriteAllText(Path.Combine(root, "dir/inner"), "inner");
        File.WriteAllText(Path.Combine(root, "file"), "hello");
        Tool.Run("chmod", "0644", Path.Combine(root, "file")); // whatever the umask
        File.WriteAllText(Path.Combine(root, "pair-a"), "pair");
        Tool.Run("ln", Path.Combine(root, "pair-a"), Path.Combine(root, "pair-b"));
        File.CreateSymbolicLink(Path.Combine(root, "link"), "file");
        Tool.Run("setfattr", "-n", "user.bin", "-v", "0xff00fe80", Path.Combine(root, "file"));
        Tool.Run("touch", "-d", "2020-01-02 03:04:05.123456789", Path.Combine(root, "file"));
        return root;
    }
}
