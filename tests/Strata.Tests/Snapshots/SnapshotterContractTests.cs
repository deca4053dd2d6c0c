using Strata.Errors;
using Strata.Snapshots;
using Strata.Storage;
using Strata.Tests.Infrastructure;
using Strata.Union;

namespace Strata.Tests.Snapshots;

/// <summary>
/// What every snapshotter promises (containerd's snapshotter contract), checked on Strata's own two: layers
/// committed on parents, views and active snapshots over them, the refusals, usage, and removal that leaves nothing.
/// </summary>
public class SnapshotterContractTests
{
    private static DirectorySnapshotter Make(string kind, StrataStore store) =>
        kind == "overlay" ? new OverlaySnapshotter(store, rootless: false) : new VfsSnapshotter(store);

    /// <summary>Where an active snapshot's mounts take writes.</summary>
    private static string Writable(IReadOnlyList<MountSpec> mounts) =>
        mounts is [{ Type: "overlay" } o] ? o.Option("upperdir")! : mounts is [{ Type: "bind", ReadOnly: false } b] ? b.Source
            : throw new InvalidOperationException("not writable");

    [Theory]
    [InlineData("overlay")]
    [InlineData("vfs")]
    public void LayersViewsAndActiveSnapshotsOnParents(string kind)
    {
        using var tmp = new TempDir("snapshotter");
        using var store = StrataStore.Open(tmp.Combine("root"));
        var s = Make(kind, store);

        var a = Writable(s.Prepare("a", null));
        File.WriteAllText(Path.Combine(a, "one"), "1111");
        Directory.CreateDirectory(Path.Combine(a, "var"));
        File.CreateSymbolicLink(Path.Combine(a, "var", "run"), "/"); // measured as a link, never walked: that is the host
        s.Commit("L1", "a");
        Assert.Null(s.Stat("a"));
        Assert.Equal(SnapshotKind.Committed, s.Stat("L1")!.Kind);
        Assert.Equal(new SnapshotUsage(4, 3), s.Usage("L1"));

        var b = Writable(s.Prepare("b", "L1"));
        File.WriteAllText(Path.Combine(b, "two"), "22");
        Assert.Equal(SnapshotKind.Active, s.Stat("b")!.Kind);
        Assert.Equal("L1", s.Stat("b")!.Parent);
        s.Commit("L2", "b");

        var view = s.View("v", "L2");
        Assert.True(Assert.Single(view).ReadOnly);
        var union = SnapshotMounts.Reader(view, rootless: false);
        Assert.Equal(["one", "two"], union.List("")!.Where(n => n is "one" or "two"));
        Assert.True(Assert.Single(s.Mounts("L2")).ReadOnly);
        var c = s.Prepare("c", "L2");
        Assert.False(Assert.Single(c).ReadOnly);
        Assert.Equal(["one", "two"], SnapshotMounts.Reader(c, rootless: false).List("")!.Where(n => n is "one" or "two"));

        Assert.Equal(ErrorKind.AlreadyExists, Assert.Throws<StrataException>(() => s.Prepare("v", null)).Kind);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<StrataException>(() => s.Prepare("x", "nothing")).Kind);
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<StrataException>(() => s.Prepare("x", "v")).Kind);
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<StrataException>(() => s.Remove("L1")).Kind);
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<StrataException>(() => s.Commit("L3", "L2")).Kind);
        Assert.Equal(ErrorKind.AlreadyExists, Assert.Throws<StrataException>(() => s.Commit("L1", "c")).Kind);
        Assert.Equal(SnapshotKind.Active, s.Stat("c")!.Kind); // a refused commit leaves it as it was
        Assert.Null(s.Stat("x"));

        Assert.Equal(["L1", "L2", "c", "v"], s.List().Select(i => i.Key).Order(StringComparer.Ordinal));
        foreach (var key in new[] { "c", "v", "L2", "L1" }) s.Remove(key);
        Assert.Empty(s.List());
        Assert.All(Directory.EnumerateDirectories(s.Home).Select(Path.GetFileName), n => Assert.True(n is "l" or "empty", n));
        if (kind == "overlay") Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(s.Home, "l")));
    }

    [Theory]
    [InlineData("overlay")]
    [InlineData("vfs")]
    public void CollectKeepsWhatIsKeptWithItsAncestorsAndSweepsOldOrphans(string kind)
    {
        using var tmp = new TempDir("snapshot-gc");
        using var store = StrataStore.Open(tmp.Combine("root"));
        var s = Make(kind, store);
        File.WriteAllText(Path.Combine(Writable(s.Prepare("a", null)), "f"), "abc");
        s.Commit("base", "a");
        s.Prepare("b", "base");
        s.Commit("mid", "b");
        s.Prepare("container", "mid");
        s.Prepare("c", "base");
        s.Commit("other", "c");
        // A crash between making a snapshot's directory and recording it: its directory goes at once, however young;
        // one a live process is making (it holds the directory's lock) stays.
        var dead = Directory.CreateDirectory(Path.Combine(s.Home, "0123456789abcdef0123456789abcdef")).FullName;
        var live = Directory.CreateDirectory(Path.Combine(s.Home, "fedcba9876543210fedcba9876543210", "diff")).Parent!.FullName;
        var liveStaging = Directory.CreateDirectory(Path.Combine(s.Home, ".staging-fedcba9876543210")).FullName;
        using var holdLive = Strata.IO.OwnerLock.Hold(live);
        using var holdStaging = Strata.IO.OwnerLock.Hold(liveStaging);
        string? deadLink = null, liveLink = null;
        if (kind == "overlay")
        {
            // A link made just before a row a crash never wrote goes with its directory; a live maker's stays.
            deadLink = Path.Combine(s.Home, "l", "ORPHANORPHANORPHANORPHAN22");
            File.CreateSymbolicLink(deadLink, "../gone/diff");
            liveLink = Path.Combine(s.Home, "l", "YOUNGYOUNGYOUNGYOUNGYOUNG2");
            File.CreateSymbolicLink(liveLink, $"../{Path.GetFileName(live)}/diff");
        }

        SnapshotCollector.Collect(s, s.List(), new HashSet<string> { "container" });
        Assert.Equal(["base", "container", "mid"], s.List().Select(i => i.Key).Order(StringComparer.Ordinal));
        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(live));
        Assert.True(Directory.Exists(liveStaging));
        if (kind == "overlay")
        {
            Assert.False(File.Exists(deadLink) || Directory.Exists(deadLink) || new FileInfo(deadLink!).LinkTarget is not null);
            Assert.NotNull(new FileInfo(liveLink!).LinkTarget);
        }
        holdLive!.Dispose();
        holdStaging!.Dispose();
        // Their makers gone, they go too. (A process another test forks in parallel holds a copy of a lock's fd from
        // its fork to its exec, which closes it: for those few moments the directory still looks held.)
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            SnapshotCollector.Collect(s, s.List(), new HashSet<string>());
            if (!(Directory.Exists(live) || Directory.Exists(liveStaging)) || clock.Elapsed > TimeSpan.FromSeconds(5)) break;
            Thread.Sleep(50);
        }
        Assert.Empty(s.List());
        Assert.False(Directory.Exists(live) || Directory.Exists(liveStaging));
    }
}
