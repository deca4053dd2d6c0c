using Strata.Archive.Tar;
using Strata.Errors;

namespace Strata.Archive.Changes;

/// <summary>
/// Layers from directory trees. With no lower tree, every entry of the upper one (a layer from a rootfs);
/// else the changes from lower to upper: added and modified entries in full, deleted ones as whiteouts, and
/// each directory whose children changed. Output is sorted (parents first), so the same trees give the same tar.
/// </summary>
internal static class DirectoryDiffer
{
    /// <param name="lowerRoot">The tree before, or null.</param>
    /// <param name="upperRoot">The tree after.</param>
    /// <param name="check">Told of each entry read from the upper tree (its path, node and entry) before it is handed
    /// on: may refuse it, or wrap its data to verify the bytes as they are read.</param>
    public static IEnumerable<TarEntry> Diff(string? lowerRoot, string upperRoot, Action<string, FileNode, TarEntry>? check = null)
    {
        var upper = FileNode.TryRead(Path.GetFullPath(upperRoot));
        if (upper is null || !upper.IsDirectory) throw StrataException.NotFound($"not a directory: {upperRoot}");
        var lower = lowerRoot is null ? null : FileNode.TryRead(Path.GetFullPath(lowerRoot));
        if (lowerRoot is not null && (lower is null || !lower.IsDirectory)) throw StrataException.NotFound($"not a directory: {lowerRoot}");
        var walk = Walk(lower, upper, "");
        return HardLinkTracker.Emit(check is null ? walk : walk.Select(item =>
        {
            if (item.Item1 is { } node) check(item.Item2.Name, node, item.Item2);
            return item;
        }));
    }

    internal static bool KeepXattr(string name) => !OverlayFormat.IsOverlayXattr(name);

    /// <summary>The changes below one directory, in order; lower null means all of upper is new.</summary>
    private static IEnumerable<(FileNode?, TarEntry)> Walk(FileNode? lowerDir, FileNode upperDir, string prefix)
    {
        var upperNames = upperDir.ChildNames();
        var lowerNames = lowerDir?.ChildNames() ?? [];
        var upperSet = new HashSet<string>(upperNames, StringComparer.Ordinal);
        var items = new List<(string Name, bool Deleted)>();
        items.AddRange(upperNames.Select(n => (n, false)));
        items.AddRange(lowerNames.Where(n => !upperSet.Contains(n)).Select(n => (n, true)));
        items.Sort((a, b) => string.CompareOrdinal(SortName(a), SortName(b)));

        foreach (var (name, deleted) in items)
        {
            var path = prefix.Length == 0 ? name : prefix + "/" + name;
            if (deleted)
            {
                yield return (null, Whiteout(prefix, name));
                continue;
            }
            var u = FileNode.TryRead(Path.Combine(upperDir.FullPath, name));
            if (u is null) continue; // vanished while walking
            var l = lowerDir is null ? null : FileNode.TryRead(Path.Combine(lowerDir.FullPath, name));
            if (l is not null && l.IsDirectory && u.IsDirectory)
            {
                // Both directories: the directory is emitted when it changed itself or anything below it did.
                var below = Walk(l, u, path).ToList();
                if (below.Count > 0 || Changed(l, u))
                {
                    var entry = u.ToEntry(path, KeepXattr);
                    if (entry is not null) yield return (u, entry);
                }
                foreach (var c in below) yield return c;
                continue;
            }
            if (l is not null && !Changed(l, u)) continue;
            var e = u.ToEntry(path, KeepXattr);
            if (e is null) continue; // sockets have no tar form
            yield return (u, e);
            if (u.IsDirectory)
                foreach (var c in Walk(null, u, path)) yield return c; // a new directory (or one that replaced a file)
        }
    }

    /// <summary>A deleted name sorts as the whiteout it becomes.</summary>
    private static string SortName((string Name, bool Deleted) item) => item.Deleted ? OverlayFormat.WhiteoutPrefix + item.Name : item.Name;

    private static TarEntry Whiteout(string dir, string name) => new()
    {
        Name = OverlayFormat.WhiteoutName(dir, name),
        Type = TarEntryType.Regular,
    };

    /// <summary>Type, mode, owner, device, target, xattrs, mtime, and for files the size (content is not read, as in docker).</summary>
    private static bool Changed(FileNode l, FileNode u)
    {
        var a = l.Stat;
        var b = u.Stat;
        if (a.Mode != b.Mode || a.Uid != b.Uid || a.Gid != b.Gid || a.RdevMajor != b.RdevMajor || a.RdevMinor != b.RdevMinor) return true;
        // Directories too (unlike docker's naive diff): a commit must carry a touched directory's time, as an overlay upper does.
        if (a.Mtime.Seconds != b.Mtime.Seconds || a.Mtime.Nanoseconds != b.Mtime.Nanoseconds) return true;
        if (!a.IsDirectory && a.Size != b.Size) return true;
        if (a.IsSymlink && l.ReadLink() != u.ReadLink()) return true;
        var xa = l.Xattrs();
        var xb = u.Xattrs();
        if (xa.Count != xb.Count) return true;
        foreach (var (k, v) in xa)
            if (!xb.TryGetValue(k, out var w) || !v.AsSpan().SequenceEqual(w)) return true;
        return false;
    }
}
