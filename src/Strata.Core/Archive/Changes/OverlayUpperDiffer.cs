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
        !OverlayFormat.IsOverlayXattr(name) && !name.StartsWith(OverlayFormat.FuseOverlayfsPrefix, StringComparison.Ordinal);

    private static IEnumerable<(FileNode?, TarEntry)> Walk(FileNode dir, string prefix, IReadOnlyList<string>? lowerDirs)
    {
        foreach (var name in dir.ChildNames())
        {
            var path = prefix.Length == 0 ? name : prefix + "/" + name;
            // fuse-overlayfs's opaque marker files: read with their directory.
            if (name is OverlayFormat.OpaqueMarker or OverlayFormat.OldOpaqueMarker) continue;
            var node = FileNode.TryRead(Path.Combine(dir.FullPath, name), dir.Rootless);
            if (node is null) continue;
            // Whiteouts first: the kernel's share one inode, so they must never reach hard-link detection.
            if (IsWhiteout(node))
            {
                yield return (null, new TarEntry { Name = OverlayFormat.WhiteoutName(prefix, name) });
                continue;
            }
            var entry = node.ToEntry(path, KeepXattr);
            if (entry is null) continue;
            yield return (node, entry);
            if (!node.IsDirectory) continue;
            if (IsOpaque(node) && (lowerDirs is null || lowerDirs.Any(l => Directory.Exists(Path.Combine(l, path)))))
                yield return (null, new TarEntry { Name = path + "/" + OverlayFormat.OpaqueMarker });
            foreach (var c in Walk(node, path, lowerDirs)) yield return c;
        }
    }

    private static bool IsWhiteout(FileNode node)
    {
        if (OverlayFormat.IsWhiteout(node.RawStat)) return true;
        return node.RawStat.IsRegular && node.RawStat.Size == 0 && node.RawXattrs().ContainsKey(OverlayFormat.TrustedWhiteout);
    }

    private static bool IsOpaque(FileNode dir) =>
        OverlayFormat.HasOpaqueXattr(dir.RawXattrs(), orFuseOverlayfs: true) || OverlayFormat.HasOpaqueFile(dir.FullPath, orOld: true);
}
