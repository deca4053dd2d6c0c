namespace Strata.Snapshots;

/// <summary>
/// Removes every snapshot that neither is kept nor is an ancestor of one kept, children before parents, and what
/// crashed writers left in a directory snapshotter's home. Returns the bytes freed.
/// </summary>
internal static class SnapshotCollector
{
    public static long Collect(ISnapshotter snapshotter, IReadOnlyList<SnapshotInfo> snapshots, IReadOnlySet<string> keep)
    {
        long freed = 0;
        foreach (var s in Garbage(snapshots, keep))
        {
            freed += snapshotter.Usage(s.Key).Size;
            snapshotter.Remove(s.Key);
        }
        if (snapshotter is DirectorySnapshotter directories) freed += directories.SweepOrphans();
        return freed;
    }

    /// <summary>The snapshots that neither are kept nor are an ancestor of one kept, children first.</summary>
    public static IReadOnlyList<SnapshotInfo> Garbage(IReadOnlyList<SnapshotInfo> snapshots, IReadOnlySet<string> keep)
    {
        var byKey = snapshots.ToDictionary(s => s.Key, StringComparer.Ordinal);
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keep)
            for (var k = key; k is not null && byKey.TryGetValue(k, out var s) && live.Add(k);) k = s.Parent;
        return snapshots.Where(s => !live.Contains(s.Key)).OrderByDescending(s => Depth(s, byKey)).ToList();
    }

    private static int Depth(SnapshotInfo s, Dictionary<string, SnapshotInfo> byKey)
    {
        int depth = 0;
        for (var p = s.Parent; p is not null && byKey.TryGetValue(p, out var parent); p = parent.Parent) depth++;
        return depth;
    }
}
