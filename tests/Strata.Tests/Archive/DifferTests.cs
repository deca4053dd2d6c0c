using Strata.Archive;
using Strata.Archive.Changes;
using Strata.Archive.Tar;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Archive;

/// <summary>Layers from trees: applying base then diff reproduces the changed tree exactly.</summary>
public class DifferTests
{
    private static string MakeTree(TempDir tmp, string name)
    {
        var root = tmp.CreateDirectory(name);
        Tool.Run("sh", "-c", $"""
            cd '{root}' && mkdir -p etc usr/lib/deep gone/sub && echo hello > etc/hostname && echo data > usr/lib/deep/file &&
            echo g > gone/sub/f && echo x > tobefile/.keep 2>/dev/null; mkdir -p todir && echo f > tofile && ln -s /etc/hostname link &&
            ln etc/hostname etc/hardlink && chmod 4755 usr/lib/deep/file && setfattr -n user.bin -v 0xff00fe80 etc/hostname &&
            touch -h -d '2020-01-02 03:04:05.123456789' etc/hostname link
            """);
        return root;
    }

    private static void Apply(string root, IEnumerable<TarEntry> entries)
    {
        // Through a real tar stream, as a layer travels.
        var ms = new MemoryStream();
        LayerWriter.Write(entries, ms, Strata.Oci.Compression.None);
        ms.Position = 0;
        using var reader = new TarReader(ms);
        LayerApplier.Apply(root, reader.Entries());
    }

    [Fact]
    public void WholeTreeRoundTrips()
    {
        Requires.Root();
        using var tmp = new TempDir();
        var tree = MakeTree(tmp, "tree");
        var copy = tmp.CreateDirectory("copy");
        Apply(copy, DirectoryDiffer.Diff(null, tree));
        var diff = TreeComparer.Compare(tree, copy, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
        Assert.True(diff.Count == 0, string.Join('\n', diff));
    }

    [Fact]
    public void ChangesRoundTrip()
    {
        Requires.Root();
        using var tmp = new TempDir();
        var lower = MakeTree(tmp, "lower");
        var upper = tmp.Combine("upper");
        Tool.Run("cp", "-a", lower, upper);
        Tool.Run("sh", "-c", $"""
            cd '{upper}' && echo changed > usr/lib/deep/file && rm -r gone && rm tofile && mkdir tofile && echo in > tofile/x &&
            rm -r todir && echo now-file > todir && ln usr/lib/deep/file newlink && echo new > etc/new && chmod 600 etc/hostname
            """);
        var entries = DirectoryDiffer.Diff(lower, upper).ToList();
        var names = entries.Select(e => e.Name).ToList();
        Assert.Contains(".wh.gone", names);
        Assert.DoesNotContain("link", names); // unchanged
        var target = tmp.Combine("target");
        Tool.Run("cp", "-a", lower, target);
        Apply(target, DirectoryDiffer.Diff(lower, upper));
        var diff = TreeComparer.Compare(upper, target, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
        Assert.True(diff.Count == 0, string.Join('\n', diff));
    }

    [Fact]
    public void KernelOverlayUpperBecomesALayer()
    {
        Requires.Root();
        Requires.Overlay();
        using var tmp = new TempDir();
        var lower = MakeTree(tmp, "lower");
        var upper = tmp.CreateDirectory("upper");
        var work = tmp.CreateDirectory("work");
        var merged = tmp.CreateDirectory("merged");
        Tool.Run("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={lower},upperdir={upper},workdir={work}", merged);
        var snapshot = tmp.Combine("snapshot");
        try
        {
            Tool.Run("sh", "-c", $"""
                cd '{merged}' && echo changed > usr/lib/deep/file && rm etc/hostname && rm -r gone && mkdir gone && echo fresh > gone/new &&
                ln usr/lib/deep/file usr/hard && chmod 700 etc && echo n > newfile
                """);
            Tool.Run("cp", "-a", merged, snapshot);
        }
        finally
        {
            Tool.Run("umount", merged);
        }
        var entries = OverlayUpperDiffer.Diff(upper, [lower]).ToList();
        var names = entries.Select(e => e.Name).ToList();
        Assert.Contains("etc/.wh.hostname", names);
        Assert.Contains("gone/.wh..wh..opq", names);
        Assert.DoesNotContain(entries, e => e.Xattrs.Keys.Any(k => k.StartsWith("trusted.overlay.", StringComparison.Ordinal)));

        var target = tmp.Combine("target");
        Tool.Run("cp", "-a", lower, target);
        Apply(target, entries);
        var diff = TreeComparer.Compare(snapshot, target, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
        Assert.True(diff.Count == 0, string.Join('\n', diff));
    }

    // Names are bytes, but strata's paths are UTF-8 text for now: a name that is not UTF-8 (latin-1 "caf\xe9")
    // is refused with its path, where import DIR used to drop it silently. A real U+FFFD in a name is kept.
    [Fact]
    public void NameThatIsNotUtf8IsRefusedNotDropped()
    {
        using var tmp = new TempDir();
        var tree = tmp.CreateDirectory("tree");
        System.IO.File.WriteAllText(Path.Combine(tree, "ok\uFFFD"), "kept");
        Assert.Equal(["ok\uFFFD"], DirectoryDiffer.Diff(null, tree).Select(e => e.Name));
        Tool.Run("sh", "-c", $"mkdir '{tree}/sub' && touch \"$(printf '{tree}/sub/caf\\351')\"");
        var ex = Assert.Throws<Strata.Errors.StrataException>(() => DirectoryDiffer.Diff(null, tree).ToList());
        Assert.Equal(Strata.Errors.ErrorKind.Unsupported, ex.Kind);
        Assert.Contains("sub/caf", ex.Message);
        Assert.Contains("not UTF-8", ex.Message);
    }
}
