using Strata.Archive;
using Strata.Archive.Changes;
using Strata.Archive.Tar;
using Strata.Snapshots;
using Strata.Storage;
using static Strata.Native.Libc;

namespace Strata.Union;

/// <summary>
/// Verifies what a reader of a union (export) takes from committed layers against each layer's record of what was
/// unpacked, file by file as it streams (<see cref="RecordCheck"/>): hashing whole layers first would read every lower
/// file twice, and files the union hides too. A file that does not match fails the read with exit 5 after its bytes
/// went out: export -o writes to a temporary file, so nothing damaged is kept. The container's own upper, layers with
/// no record (committed before schema 6) and flattened deep stacks are not checked.
/// </summary>
internal sealed class LayerVerifier
{
    private readonly Dictionary<int, (SnapshotRecord Record, DirectorySnapshotter Snapshotter)> _layers;
    private readonly Dictionary<int, RecordCheck?> _checks = [];

    private LayerVerifier(Dictionary<int, (SnapshotRecord, DirectorySnapshotter)> layers) => _layers = layers;

    /// <summary>For a view over <paramref name="viewLayers"/> (top first) of a snapshot chain under <paramref name="parent"/>; null when there is nothing to verify.</summary>
    public static LayerVerifier? For(StrataStore store, ISnapshotter snapshotter, string? parent, IReadOnlyList<string> viewLayers)
    {
        if (parent is null || snapshotter is not DirectorySnapshotter own) return null;
        // Matched by inode, not by path: a view names lowers through links and however the store root was spelled.
        var byInode = new Dictionary<(uint, uint, ulong), SnapshotRecord>();
        foreach (var s in store.Snapshots.Chain(parent).Where(s => s.State == SnapshotState.Committed && s.Tree is not null))
            if (TryLstatAt(AT_FDCWD, own.TreeOf(s), out var st)) byInode[(st.DevMajor, st.DevMinor, st.Ino)] = s;
        var layers = new Dictionary<int, (SnapshotRecord, DirectorySnapshotter)>();
        for (int i = 0; i < viewLayers.Count; i++)
            if (TryLstatAt(AT_FDCWD, viewLayers[i], out var st) && byInode.TryGetValue((st.DevMajor, st.DevMinor, st.Ino), out var s)) layers[i] = (s, own);
        return layers.Count == 0 ? null : new LayerVerifier(layers);
    }

    /// <summary>Checks one entry of the walk (see <see cref="UnionExport.Entries"/>) against the record of the layer it comes from.</summary>
    public void Check(UnionEntry e, FileNode node, TarEntry entry)
    {
        if (!_layers.TryGetValue(e.Layer, out var layer)) return;
        if (!_checks.TryGetValue(e.Layer, out var check)) _checks[e.Layer] = check = RecordCheck.For(layer.Snapshotter, layer.Record);
        check?.Check(e.Path, node, entry);
    }
}
