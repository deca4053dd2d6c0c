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
    // A layer path longer than ShortPath bytes is reached through a deep ancestor's fd, at most UnderAnchor bytes under it:
    // a listing's child (NAME_MAX more) and /proc/self/fd/N/ still fit PATH_MAX (4,096).
    private const int ShortPath = 3000, UnderAnchor = 2500, Step = 1024;

    /// <summary>What a listing keeps of a visible entry, from its full path and lstat.</summary>
    public delegate T Shown<T>(string full, in Statx st);

    private readonly string[] _layers;
    private readonly bool _whiteoutFiles;
    private readonly Dictionary<string, List<int>?> _contributors = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Layer, string Dir), int>? _anchors;

    /// <param name="layersTopFirst">The layer directories, top first.</param>
    /// <param name="whiteoutFiles">Also fuse-overlayfs's form: a <c>.wh.NAME</c> file hides NAME, <c>.wh..wh..opq</c>
    /// makes its directory opaque (the form containers/storage unpacks layers in for a rootless mount program).</param>
    /// <param name="longPaths">Reach paths past PATH_MAX through held directory fds (see <see cref="Full"/>); the holder
    /// calls <see cref="CloseHeld"/> at the end.</param>
    public LayerStack(string[] layersTopFirst, bool whiteoutFiles, bool longPaths = false)
    {
        _layers = layersTopFirst;
        _whiteoutFiles = whiteoutFiles;
        if (longPaths) _anchors = [];
    }

    /// <summary>
    /// A union path's place in a layer, for calls relative to AT_FDCWD: the joined path while it is short; past
    /// that, <c>/proc/self/fd/N/REST</c> through an O_PATH fd of a deep ancestor directory, so that a union path near
    /// or over PATH_MAX resolves as the kernel's overlayfs resolves it (joining it to the layer's path gave
    /// ENAMETOOLONG). Valid until <see cref="Forget"/> drops that ancestor: use it under the caller's lock.
    /// </summary>
    public string Full(int layer, string path)
    {
        var root = _layers[layer];
        if (path.Length == 0) return root;
        if (_anchors is null || root.Length + path.Length < ShortPath / 3 || Utf8(root) + 1 + Utf8(path) <= ShortPath) return Path.Combine(root, path);
        // The anchor: the first ancestor past a multiple of Step that leaves at most UnderAnchor bytes under it (shared by
        // the paths near it; every NAME_MAX bytes hold a slash).
        int total = Utf8(path), from = (total - UnderAnchor + Step - 1) / Step * Step, cut = -1;
        for (int i = path.IndexOf('/'); i >= 0; i = path.IndexOf('/', i + 1))
            if (Utf8(path.AsSpan(0, i)) >= from) { cut = i; break; }
        if (cut < 0) return Path.Combine(root, path); // a name over NAME_MAX: the kernel's own answer
        var (dir, rest) = (path[..cut], path[(cut + 1)..]);
        if (!_anchors.TryGetValue((layer, dir), out int fd))
        {
            var dirFull = Full(layer, dir);
            fd = OpenAt(AT_FDCWD, dirFull, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
            // Missing or no directory in this layer: a path that fails as the whole one would (ENOENT, ENOTDIR).
            if (fd < 0) return dirFull + "/" + rest[..(rest.IndexOf('/') is var slash and >= 0 ? slash : rest.Length)];
            _anchors[(layer, dir)] = fd;
        }
        return $"/proc/self/fd/{fd}/{rest}";
    }

    private static int Utf8(ReadOnlySpan<char> s) => System.Text.Encoding.UTF8.GetByteCount(s);

    /// <summary>Closes the directory fds held for long paths (a stack made with longPaths: its holder calls this once done).</summary>
    public void CloseHeld()
    {
        if (_anchors is null) return;
        foreach (var fd in _anchors.Values) Close(fd);
        _anchors.Clear();
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
            var full = Full(i, path);
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
            if (TryLstatAt(AT_FDCWD, Full(i, path), out var st)) return !OverlayFormat.IsWhiteout(st);
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
            var full = Full(i, dir);
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
        if (tree && _anchors is { Count: > 0 })
        {
            // A held directory fd follows its directory, not its name: one renamed or removed here goes. Only the top
            // layer changes (lower layers are read-only), and only a tree change moves or removes a directory.
            foreach (var key in _anchors.Keys.Where(k => k.Layer == 0 && (k.Dir == path || Below(k.Dir, path))).ToList())
            {
                Close(_anchors[key]);
                _anchors.Remove(key);
            }
        }
        if (!tree) return;
        if (path.Length == 0) { _contributors.Clear(); return; }
        foreach (var key in _contributors.Keys)
            if (Below(key, path)) _contributors.Remove(key);
    }

    private static bool Below(string key, string path) =>
        path.Length == 0 || key.Length > path.Length && key[path.Length] == '/' && key.StartsWith(path, StringComparison.Ordinal);

    private bool WhiteoutFileHides(int layer, string path)
    {
        if (!_whiteoutFiles) return false;
        var (dir, name) = LayerPaths.Split(path);
        return OverlayFormat.HasWhiteoutFile(Full(layer, dir), name);
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
                var full = Full(i, dir);
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
