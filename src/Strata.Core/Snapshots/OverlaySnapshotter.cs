using System.Security.Cryptography;
using System.Text;
using Strata.Archive;
using Strata.Storage;

namespace Strata.Snapshots;

/// <summary>
/// Snapshots in overlayfs's on-disk form (as moby's overlay2 keeps them): a layer's tree holds only what it
/// changed, with whiteouts and opaque markers; an active snapshot is an empty upper (diff/) and work directory on
/// its parents. overlay/l/LINK -> ../NAME/diff names each tree in 26 characters, so mount options stay short.
/// Mounted by the kernel's overlayfs or by Strata's FUSE union; both read and write this form.
/// </summary>
/// <param name="rootless">The trees are in <see cref="RootlessForm"/> (the store was made without root).</param>
internal sealed class OverlaySnapshotter(StrataStore store, bool rootless) : DirectorySnapshotter(store, Path.Combine(store.Root, "overlay"))
{
    /// <summary>overlayfs stacks at most 500 lowers (OVL_MAX_STACK); a writable mount needs one more for its upper.</summary>
    public const int MaxLowers = 499;

    public override string Name => "overlay";

    public bool Rootless => rootless;

    protected override void Populate(string dir, IReadOnlyList<SnapshotRecord> parents)
    {
        Directory.CreateDirectory(Path.Combine(dir, "diff"));
        Directory.CreateDirectory(Path.Combine(dir, "work"));
    }

    protected override string? MakeLink(string name)
    {
        var links = Path.Combine(Home, "l");
        Directory.CreateDirectory(links);
        var link = NewLink();
        File.CreateSymbolicLink(Path.Combine(links, link), $"../{name}/diff");
        return link;
    }

    protected override void OnCommitted(SnapshotRecord active) => DeleteTree(Path.Combine(Store.Root, active.Dir!, "work"));

    protected override void DeleteFiles(SnapshotRecord snapshot)
    {
        if (snapshot.Link is { } link) File.Delete(Path.Combine(Home, "l", link));
        base.DeleteFiles(snapshot);
    }

    protected override void OnRemoved(SnapshotRecord removed)
    {
        base.OnRemoved(removed);
        DeleteTree(Path.Combine(Home, FlatName(removed.Key)));
    }

    /// <summary>
    /// Links no row names: made just before a row that a crash never wrote, or left by a removal a crash cut short. One
    /// goes once its directory is gone (swept first): a live maker makes the directory before the link, and a removal
    /// deletes the link before the directory.
    /// </summary>
    protected override void SweepExtras(IReadOnlyList<SnapshotRecord> rows)
    {
        var links = Path.Combine(Home, "l");
        if (!Directory.Exists(links)) return;
        var named = rows.Where(r => r.Link is not null).Select(r => r.Link!).ToHashSet(StringComparer.Ordinal);
        foreach (var link in Directory.EnumerateFileSystemEntries(links))
            if (!named.Contains(Path.GetFileName(link)) && !Directory.Exists(link)) File.Delete(link);
    }

    /// <summary>A flattened stack stays while its snapshot does (removed with it; a crash in between leaves it unnamed).</summary>
    protected override IReadOnlySet<string> KeptBeside(IReadOnlyList<SnapshotRecord> rows) => rows.Select(r => FlatName(r.Key)).ToHashSet(StringComparer.Ordinal);

    protected override IReadOnlyList<MountSpec> MountsOf(IReadOnlyList<SnapshotRecord> chain)
    {
        var self = chain[0];
        bool active = self.State == SnapshotState.Active;
        var lowers = Fit(self.State == SnapshotState.Committed ? chain : chain.Skip(1).ToList());
        if (lowers.Count == 0 || (!active && lowers.Count == 1)) lowers.Add(Empty); // overlayfs wants two lowers without an upper
        return active
            ? [MountSpec.Overlay(lowers, TreeOf(self), Path.Combine(Store.Root, self.Dir!, "work"))]
            : [MountSpec.Overlay(lowers)];
    }

    /// <summary>
    /// The lowers' paths, top first. A stack deeper than the kernel takes still mounts: its bottom layers are
    /// flattened once into one directory (overlay/flat-KEY, read through the union view, cached until KEY is
    /// removed) that stands in for them as the lowest lower.
    /// </summary>
    private List<string> Fit(IReadOnlyList<SnapshotRecord> layers)
    {
        const int max = MaxLowers;
        if (layers.Count <= max) return layers.Select(LowerPath).ToList();
        var keep = layers.Take(max - 1).ToList();
        var flattened = layers.Skip(max - 1).ToList();
        var dir = Path.Combine(Home, FlatName(flattened[0].Key));
        if (!Directory.Exists(dir))
        {
            string staging;
            Microsoft.Win32.SafeHandles.SafeFileHandle? held;
            do
            {
                staging = Path.Combine(Home, ".staging-" + Path.GetFileName(dir) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
                held = IO.OwnerLock.CreateDirectory(staging); // held while it is made: a killed mount's is swept at once
            }
            while (held is null);
            using (held)
            {
                LayerApplier.Apply(staging, UnionExport.Entries(new UnionView(flattened.Select(TreeOf).ToList(), rootless)));
                try { Directory.Move(staging, dir); }
                catch (IOException) when (Directory.Exists(dir)) { DeleteTree(staging); } // another process won
            }
        }
        return [.. keep.Select(LowerPath), dir];
    }

    private string LowerPath(SnapshotRecord s) => s.Link is { } link ? Path.Combine(Home, "l", link) : TreeOf(s);

    /// <summary>A layer's ChainID's hex names its flattened stack; other keys, their hash.</summary>
    private static string FlatName(string key) => "flat-" + (key.StartsWith("sha256:", StringComparison.Ordinal)
        ? key[7..] : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));

    /// <summary>26 base32 characters, as moby's overlay2: 128 layers of "l/LINK:" fit in one page of mount options.</summary>
    private static string NewLink()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = RandomNumberGenerator.GetBytes(26);
        return string.Create(26, bytes, (span, b) => { for (int i = 0; i < span.Length; i++) span[i] = alphabet[b[i] % 32]; });
    }
}
