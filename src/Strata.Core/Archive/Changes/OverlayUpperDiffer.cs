using Strata.Archive.Tar;
using Strata.Errors;

namespace Strata.Archive.Changes;

/// <summary>
/// A layer from an overlayfs upper directory (kernel or fuse-overlayfs): char 0/0 devices and
/// trusted.overlay.whiteout files become ".wh.NAME"; an opaque directory (trusted/user.overlay.opaque=y, or
/// fuse-overlayfs's marker files) gets a ".wh..wh..opq" entry; overlay-private xattrs are dropped.
/// </summary>
internal static class OverlayUpperDiffer
{
    /// <param name="upperDir">The upper directory.</param>
    /// <param name="lowerDirs">The lower layers, top first. When given, an opaque marker is emitted only for a
    /// directory some lower layer has (an opaque flag on a brand-new directory hides nothing).</param>
    /// <param name="rootless">The layers are in <see cref="RootlessForm"/>.</param>
    public static IEnumerable<TarEntry> Diff(string upperDir, IReadOnlyList<string>? lowerDirs = null, bool rootless = false)
    {
        var upper = FileNode.TryRead(Path.GetFullPath(upperDir), rootless);
        if (upper is null || !upper.IsDirectory) throw StrataException.NotFound($"not a directory: {upperDir}");
        return HardLinkTracker.Emit(Walk(upper, "", lowerDirs));
    }

    private static bool KeepXattr(string name) =>
        !name.StartsWith("trusted.overlay.", StringComparison.Ordinal)
        && !name.StartsWith("user.overlay.", StringComparison.Ordinal)
        && !name.StartsWith("user.fuseoverlayfs.", StringComparison.Ordinal);

    private static IEnumerable<(FileNode?, TarEntry)> Walk(FileNode dir, string prefix, IReadOnlyList<string>? lowerDirs)
    {
        foreach (var name in dir.ChildNames())
        {
            var path = prefix.Length == 0 ? name : prefix + "/" + name;
            if (name is ".wh..wh..opq" or ".wh..opq") continue; // fuse-overlayfs's opaque markers: read with the directory
            var node = FileNode.TryRead(Path.Combine(dir.FullPath, name), dir.Rootless);
            if (node is null) continue;
            // Whiteouts first: the kernel's share one inode, so they must never reach hard-link detection.
            if (IsWhiteout(node))
            {
                yield return (null, new TarEntry { Name = (prefix.Length == 0 ? "" : prefix + "/") + LayerPaths.WhiteoutPrefix + name });
                continue;
            }
            var entry = node.ToEntry(path, KeepXattr);
            if (entry is null) continue;
            yield return (node, entry);
            if (!node.IsDirectory) continue;
            if (IsOpaque(node) && (lowerDirs is null || lowerDirs.Any(l => Directory.Exists(Path.Combine(l, path)))))
                yield return (null, new TarEntry { Name = path + "/" + LayerPaths.OpaqueMarker });
            foreach (var c in Walk(node, path, lowerDirs)) yield return c;
        }
    }

    private static bool IsWhiteout(FileNode node)
    {
        if (node.IsOverlayWhiteoutDevice) return true;
        return node.RawStat.IsRegular && node.RawStat.Size == 0 && node.RawXattrs().ContainsKey("trusted.overlay.whiteout");
    }

    private static bool IsOpaque(FileNode dir)
    {
        var x = dir.RawXattrs();
        foreach (var key in new[] { "trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque" })
            if (x.TryGetValue(key, out var v) && v is [(byte)'y', ..]) return true;
        var marker = FileNode.TryRead(Path.Combine(dir.FullPath, ".wh..wh..opq")) ?? FileNode.TryRead(Path.Combine(dir.FullPath, ".wh..opq"));
        return marker is not null;
    }
}
