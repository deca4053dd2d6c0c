using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.Archive;

/// <summary>
/// A path resolved through a stack of layer directories by overlayfs's rules, for <see cref="UnionView"/> and the
/// FUSE union: the topmost copy wins, a whiteout hides what is below it, directories merge until a layer has no
/// directory there or marks it opaque (<see cref="OverlayFormat"/>). Each directory's merge is cached; a writer
/// drops what a change affects with <see cref="Forget"/>. Not thread-safe: a concurrent user holds its own lock.
/// </summary>
internal sealed class LayerStack
{
    /// <summary>What a listing keeps of a visible entry, from its full path and lstat.</summary>
    public delegate T Shown<T>(string full, in Statx st);

    private readonly string[] _layers;
    private readonly bool _whiteoutFiles;
    private readonly Dictionary<string, List<int>?> _contributors = new(StringComparer.Ordinal);

    /// <param name="layersTopFirst">The layer directories, top first.</param>
    /// <param name="whiteoutFiles">Also fuse-overlayfs's form: a <c>.wh.NAME</c> file hides NAME, <c>.wh..wh..opq</c>
    /// makes its directory opaque (the form containers/storage unpacks layers in for a rootless mount program).</param>
    public LayerStack(string[] layersTopFirst, bool whiteoutFiles)
    {
        _layers = layersTopFirst;
        _whiteoutFiles = whiteoutFiles;
    }

    public int Count => _layers.Length;

    public string this[int layer] => _layers[layer];

    /// <summary>The topmost visible copy of a clean union path ("" is the root): which layer, its full path, its lstat.</summary>
    public (int Layer, string Full, Statx Stat)? Resolve(string path)
    {
        if (path.Length == 0)
            return TryLstatAt(AT_FDCWD, _layers[0], out var top) ? (0, _layers[0], top) : throw new ErrnoException(Errno.ENOENT, "stat", _layers[0]);
        var (dir, _) = LayerPaths.Split(path);
        var layers = Contributors(dir);
        if (layers is null) return null;
        foreach (var i in layers)
        {
            var full = Path.Combine(_layers[i], path);
            if (TryLstatAt(AT_FDCWD, full, out var st)) return OverlayFormat.IsWhiteout(st) ? null : (i, full, st);
            if (WhiteoutFileHides(i, path)) return null;
        }
        return null;
    }

    /// <summary>Whether the layers from <paramref name="first"/> down would show something at a path, uncovered.</summary>
    public bool ShowsFrom(int first, string path)
    {
        var (dir, _) = LayerPaths.Split(path);
        var layers = Contributors(dir);
        if (layers is null) return false;
        foreach (var i in layers)
        {
            if (i < first) continue;
            if (TryLstatAt(AT_FDCWD, Path.Combine(_layers[i], path), out var st)) return !OverlayFormat.IsWhiteout(st);
            if (WhiteoutFileHides(i, path)) return false;
        }
        return false;
    }

    /// <summary>
    /// Every name a union directory holds, once, as its topmost copy shows it: <paramref name="shown"/> of a visible
    /// entry, null for a hidden one; null when the path is not a directory of the union.
    /// </summary>
    public Dictionary<string, T?>? List<T>(string dir, Shown<T> shown) where T : struct
    {
        var layers = Contributors(dir);
        if (layers is null) return null;
        var seen = new Dictionary<string, T?>(StringComparer.Ordinal);
        foreach (var i in layers)
        {
            var full = dir.Length == 0 ? _layers[i] : Path.Combine(_layers[i], dir);
            foreach (var entry in Directory.EnumerateFileSystemEntries(full))
            {
                var name = Path.GetFileName(entry);
                if (_whiteoutFiles && OverlayFormat.IsWhiteoutName(name))
                {
                    if (name != OverlayFormat.OpaqueMarker) seen.TryAdd(OverlayFormat.Hidden(name), null); // hidden from here down
                    continue;
                }
                if (seen.ContainsKey(name)) continue;
                seen[name] = TryLstatAt(AT_FDCWD, entry, out var st) && !OverlayFormat.IsWhiteout(st) ? shown(entry, st) : null;
            }
        }
        return seen;
    }

    /// <summary>
    /// A change at a union path drops the cached merges it can affect: its own entry (a new upper copy joins the
    /// merge; a name that was no directory may be one now) and, when a directory appears, goes or moves there, every
    /// entry below it.
    /// </summary>
    public void Forget(string path, bool tree = false)
    {
        _contributors.Remove(path);
        if (!tree) return;
        if (path.Length == 0) { _contributors.Clear(); return; }
        foreach (var key in _contributors.Keys)
            if (key.Length > path.Length && key[path.Length] == '/' && key.StartsWith(path, StringComparison.Ordinal)) _contributors.Remove(key);
    }

    private bool WhiteoutFileHides(int layer, string path)
    {
        if (!_whiteoutFiles) return false;
        var (dir, name) = LayerPaths.Split(path);
        return OverlayFormat.HasWhiteoutFile(_layers[layer], dir, name);
    }

    /// <summary>The layers whose copy of a directory takes part in the merge, top first; null if not a visible directory.</summary>
    private List<int>? Contributors(string dir)
    {
        if (_contributors.TryGetValue(dir, out var cached)) return cached;
        List<int>? result;
        if (dir.Length == 0)
        {
            // The kernel ignores the opaque flag on a layer's root: every layer takes part.
            result = [.. Enumerable.Range(0, _layers.Length)];
        }
        else
        {
            var (parent, _) = LayerPaths.Split(dir);
            var above = Contributors(parent);
            result = above is null ? null : [];
            foreach (var i in above ?? [])
            {
                var full = Path.Combine(_layers[i], dir);
                if (!TryLstatAt(AT_FDCWD, full, out var st))
                {
                    if (WhiteoutFileHides(i, dir)) break;
                    continue;
                }
                if (!st.IsDirectory) break; // a whiteout or a non-directory ends the merge here
                result!.Add(i);
                if (OverlayFormat.IsOpaque(full) || _whiteoutFiles && OverlayFormat.HasOpaqueFile(full)) break;
            }
            if (result is { Count: 0 }) result = null;
        }
        _contributors[dir] = result;
        return result;
    }
}
