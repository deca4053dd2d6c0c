using Strata.Archive;
using Strata.Archive.Changes;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Images;
using Strata.Oci;
using Strata.Snapshots;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// What Strata does with a snapshot's mounts besides mounting them, whichever snapshotter made them: apply a layer
/// into them, read them as a union without a mount, and say what an active one changed. An overlay with an upper
/// directory is read and written there (whiteouts as overlayfs keeps them, as containerd's applier does); a bind
/// is the tree itself.
/// </summary>
internal static class SnapshotMounts
{
    /// <summary>A directory a link names resolved to the directory itself.</summary>
    public static string RealPath(string dir) => File.ResolveLinkTarget(dir, returnFinalTarget: true)?.FullName ?? dir;

    /// <summary>The mount's directories top first: an overlay's upper (if any) and lowers, or a bind's source.</summary>
    public static List<string> Layers(IReadOnlyList<MountSpec> mounts)
    {
        var m = Single(mounts);
        return m.Type == "overlay"
            ? [.. m.Option("upperdir") is { } upper ? [upper] : Array.Empty<string>(), .. m.LowerDirs.Select(RealPath)]
            : [m.Source];
    }

    /// <summary>The union, read without mounting anything.</summary>
    public static UnionView Reader(IReadOnlyList<MountSpec> mounts, bool rootless) => new(Layers(mounts), rootless && Single(mounts).Type == "overlay");

    /// <summary>Applies a verified layer blob into an active snapshot's mounts.</summary>
    public static void Apply(StrataStore store, Descriptor layer, Digest diffId, IReadOnlyList<MountSpec> mounts, bool rootless)
    {
        var (tree, lowers) = Writable(mounts);
        new ImageUnpacker(store).ApplyLayer(layer, diffId, tree, lowers is null ? null
            : new ApplyOptions { Whiteouts = WhiteoutMode.Overlay, LowerDirectories = lowers, Rootless = rootless });
    }

    /// <summary>What an active snapshot changed over its parent (read through <paramref name="parent"/> for a bind, which keeps no record of it), as docker diff prints it.</summary>
    public static IReadOnlyList<Change> Changes(IReadOnlyList<MountSpec> active, IReadOnlyList<MountSpec>? parent, bool rootless)
    {
        var (tree, lowers) = Writable(active);
        return lowers is not null ? ContainerChanges.Of(tree, lowers, rootless) : ContainerChanges.OfTrees(parent is null ? [] : Layers(parent), tree);
    }

    /// <summary>An active snapshot's changes as layer entries (whiteouts, opaque markers), for commit.</summary>
    public static IEnumerable<TarEntry> LayerEntries(IReadOnlyList<MountSpec> active, IReadOnlyList<MountSpec>? parent, bool rootless)
    {
        var (tree, lowers) = Writable(active);
        if (lowers is not null) return OverlayUpperDiffer.Diff(tree, lowers, rootless);
        if (parent is not null && Layers(parent) is not [var whole])
            throw new StrataException(ErrorKind.Unsupported, "a bind snapshot's parent must be one directory to diff against");
        return DirectoryDiffer.Diff(parent is null ? null : Layers(parent)[0], tree);
    }

    /// <summary>Where a writable mount's changes go, and (overlay) the lowers under it; lowers null for a bind.</summary>
    private static (string Tree, List<string>? Lowers) Writable(IReadOnlyList<MountSpec> mounts)
    {
        var m = Single(mounts);
        if (m.ReadOnly) throw new StrataException(ErrorKind.FailedPrecondition, "the snapshot is read-only");
        return m.Type switch
        {
            "overlay" => (m.Option("upperdir")!, m.LowerDirs.Select(RealPath).ToList()),
            "bind" => (m.Source, null),
            _ => throw new StrataException(ErrorKind.Unsupported, $"cannot use a {m.Type} mount: overlay and bind are supported"),
        };
    }

    private static MountSpec Single(IReadOnlyList<MountSpec> mounts) => mounts is [var m] ? m
        : throw new StrataException(ErrorKind.Unsupported, $"a snapshot of {mounts.Count} mounts: one is supported");
}
