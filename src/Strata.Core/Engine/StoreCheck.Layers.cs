using Strata.Errors;
using Strata.Oci;
using Strata.Snapshots;
using Strata.Storage;

namespace Strata.Engine;

/// <summary>Unpacked layers against the record their snapshotter made when each was committed (not with quick).</summary>
internal sealed partial class StoreCheck
{
    /// <summary>
    /// Walks every committed layer's tree (Strata's own snapshotters; another keeps its own books), every file hashed,
    /// in the background while the blobs are hashed: both are disk and hash work and neither needs the other.
    /// </summary>
    private Task<Dictionary<string, Walked>>? StartWalks(CancellationToken cancellationToken)
    {
        if (quick || containers.Snapshotter is not DirectorySnapshotter snapshotter) return null;
        var layers = store.Snapshots.List().Where(s => s.State == SnapshotState.Committed && snapshotter.HasFiles(s)).ToList();
        return Task.Run(() => layers.ToDictionary(s => s.Key, s =>
        {
            try { return new Walked(TreeIndex.Build(snapshotter.TreeOf(s), cancellationToken), null); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or StrataException) { return new Walked(default, e.Message); }
        }, StringComparer.Ordinal), cancellationToken);
    }

    /// <summary>A walk's record of a tree, or why the tree could not be read.</summary>
    private readonly record struct Walked((byte[] Bytes, Digest Digest) Found, string? Error);

    /// <summary>
    /// Each walked layer against its record. A damaged layer is removed with what stacks on it, unless a container or
    /// a mounted image uses it: the next create, pull or image mount unpacks it again from its blob, verified as it streams.
    /// </summary>
    private void CheckLayers(Task<Dictionary<string, Walked>>? walks)
    {
        if (walks is null || containers.Snapshotter is not DirectorySnapshotter snapshotter) return;
        foreach (var (key, walked) in walks.GetAwaiter().GetResult())
        {
            if (store.Snapshots.Get(key) is not { } s) continue; // went with a damaged layer below it
            string first = "";
            var state = walked.Error is not null ? DirectorySnapshotter.TreeState.Damaged : snapshotter.VerifyTree(s, walked.Found, repair, out first);
            switch (state)
            {
                case DirectorySnapshotter.TreeState.RecordDamaged:
                    Report($"layer {s.Key}", "its record of what was unpacked is damaged (its files are intact)", repair);
                    break;
                case DirectorySnapshotter.TreeState.Damaged:
                    var blockers = Blockers(s.Key, out var subtree);
                    bool removed = repair && blockers.Count == 0 && RemoveAll(snapshotter, subtree);
                    var where = walked.Error is not null ? $" ({walked.Error})" : first.Length > 0 ? $" (first at /{first})" : "";
                    var users = repair && blockers.Count > 0 ? $"; in use by {string.Join(", ", blockers)}: remove them to repair it" : "";
                    Report($"layer {s.Key}", $"its files do not match what was unpacked{where}{users}", removed);
                    break;
            }
        }
    }

    /// <summary>The snapshot and all that stacks on it, deepest first; what keeps them: containers (by name) and mounted images.</summary>
    private List<string> Blockers(string key, out List<string> subtree)
    {
        var all = store.Snapshots.List();
        var children = all.Where(s => s.Parent is not null).ToLookup(s => s.Parent!, s => s.Key, StringComparer.Ordinal);
        var names = store.Containers.List().ToDictionary(c => c.Id, c => c.Name, StringComparer.Ordinal);
        var order = new List<string> { key };
        for (int i = 0; i < order.Count; i++) order.AddRange(children[order[i]]);
        order.Reverse(); // children before parents
        subtree = order;
        var blockers = new List<string>();
        foreach (var k in order)
        {
            if (names.TryGetValue(k, out var name)) blockers.Add($"container {name}");
            else if (k.StartsWith("view-", StringComparison.Ordinal) && Oci.Digest.TryParse("sha256:" + k[5..], out var image)
                && Union.MountTable.IsMounted(containers.ImageMountPoint(image)))
                blockers.Add($"a mount of image {image.Short} (strata image umount)");
        }
        return blockers;
    }

    private static bool RemoveAll(ISnapshotter snapshotter, List<string> keysChildrenFirst)
    {
        foreach (var k in keysChildrenFirst)
            if (!TryRemove(snapshotter, k)) return false;
        return true;
    }
}
