using System.Collections.Concurrent;
using Strata.Archive;
using Strata.Native;
using static Strata.Fuse.FuseProtocol;
using static Strata.Native.Libc;

namespace Strata.Fuse;

/// <summary>
/// overlayfs's semantics over directories in the kernel's on-disk form, served through FUSE: the upper (writable)
/// layer first, then the lowers top first. The topmost copy wins, directories merge, char 0/0 whiteouts hide,
/// trusted.overlay.opaque=y ends a merge. The first write to a lower object copies it (data and metadata) up;
/// deleting what a lower holds leaves a whiteout; rmdir then mkdir gives an opaque directory. So a container made
/// here is read, diffed and committed by the kernel driver as if the kernel had made it, and the other way round.
/// </summary>
internal sealed partial class UnionFileSystem : IFuseFileSystem, IDisposable
{
    private sealed class Node(ulong id, string path)
    {
        public ulong Id { get; } = id;
        public string Path { get; set; } = path;
        public ulong Lookups { get; set; }
        public bool Deleted { get; set; }

        // Passthrough: the kernel sends every open of a node to one backing file, registered at its first open and kept
        // until the kernel forgets the node (or a copy-up makes another file current).
        public int BackingId { get; set; }
        public string? BackingFile { get; set; }
        public int BackingOpens { get; set; }

        /// <summary>Its lower copy was copied up since the mount: opens made on the lower copy read the upper one now.</summary>
        public volatile bool CopiedUp;

        /// <summary>The file last shown for it (device, inode): other names of one file are other nodes.</summary>
        public (uint, uint, ulong) File { get; set; }

        /// <summary>A directory's readdir offsets: each name keeps the one it was first listed with (see <see cref="ReadDir"/>).</summary>
        public Dictionary<string, long>? Cookies { get; set; }
    }

    /// <summary>An open directory's listing, taken at its first readdir, in offset order (see <see cref="ReadDir"/>).</summary>
    private sealed class DirSnapshot
    {
        public List<(string Name, uint Type, long Offset)>? Entries { get; set; }
    }

    /// <summary>The offsets of ".", "..", and the first name.</summary>
    private const long DotOffset = 1, DotDotOffset = 2, FirstNameOffset = 3;

    private readonly bool _rootless;
    private readonly bool _userMarkers; // also: .wh. files in layers are whiteouts (see LayerStack)
    private readonly bool _oneFileSystem;
    private readonly string? _upper;
    private readonly string? _work;
    private readonly string[] _layers; // upper (if any) first, then the lowers top first
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Node> _nodes = [];
    private readonly Dictionary<string, Node> _byPath = new(StringComparer.Ordinal);
    private readonly LayerStack _stack;
    private readonly LayerStack.Shown<uint> _listedType;
    private readonly ConcurrentDictionary<ulong, OpenFile> _files = new();
    private readonly ConcurrentDictionary<ulong, DirSnapshot> _dirs = new();
    private ulong _nextNode = RootId + 1;
    private long _nextHandle;

    /// <param name="upper">The writable layer (null: a read-only union).</param>
    /// <param name="work">A directory on the upper's file system for copy-up staging.</param>
    /// <param name="lowersTopFirst">The read-only layers, top first.</param>
    /// <param name="rootless">The layers are in <see cref="RootlessForm"/>: owners and modes shown from overrides, and kept there.</param>
    /// <param name="userMarkers">Overlay's markers in user.overlay.* (always so in the rootless form; in a user namespace
    /// that maps owners, such as rootless podman's, only these).</param>
    public UnionFileSystem(string? upper, string? work, IReadOnlyList<string> lowersTopFirst, bool rootless = false, bool userMarkers = false)
    {
        _rootless = rootless;
        _userMarkers = rootless || userMarkers;
        _upper = upper;
        _work = work;
        _layers = [.. upper is null ? [] : new[] { upper }, .. lowersTopFirst];
        if (_layers.Length == 0) throw new ArgumentException("a union needs at least one layer");
        _stack = new LayerStack(_layers, whiteoutFiles: _userMarkers, longPaths: true);
        // A rootless-form device is a regular file on disk: its type comes from its override.
        _listedType = (string full, in Statx st) => _rootless && st.IsRegular ? Shown(full, st).Type : st.Type;
        _identities = [.. _layers.Append(work).OfType<string>().Select(d => (d, Identity(d) ?? throw new ErrnoException(Errno.ENOENT, "open layer", d)))];
        _oneFileSystem = _identities.Select(i => (i.Id.Item1, i.Id.Item2)).Distinct().Count() == 1;
        var root = new Node(RootId, "") { Lookups = 1 };
        _nodes[RootId] = root;
        _byPath[""] = root;
    }

    private bool Writable => _upper is not null;

    public IBackingFiles? Backing { get; set; }

    public IKernelCache? Cache { get; set; }

    /// <summary>A registration failed (e.g. layers on a stacked file system): every later open is served here.</summary>
    private bool _passthroughFailed;

    private readonly (string Dir, (uint, uint, ulong) Id)[] _identities;

    private static (uint, uint, ulong)? Identity(string dir) => StatPath(dir) is { } st ? (st.DevMajor, st.DevMinor, st.Ino) : null;

    /// <summary>A layer, upper or work directory that vanished or was replaced since the mount: every answer is suspect.</summary>
    public string? Problem()
    {
        foreach (var (dir, id) in _identities)
        {
            var now = Identity(dir);
            if (now != id) return now is null ? $"layer directory {dir} is gone" : $"layer directory {dir} was replaced";
        }
        return null;
    }

    // ---------- resolution: the stack's, under the lock ----------

    /// <summary>Visible names in a union directory with their file types; null when it is not one.</summary>
    private List<(string Name, uint Type)>? List(string dir) =>
        _stack.List(dir, _listedType) is { } seen ? [.. seen.Where(kv => kv.Value is not null).Select(kv => (kv.Key, kv.Value!.Value))] : null;

    private static Statx? StatPath(string full) => TryLstatAt(AT_FDCWD, full, out var st) ? st : null;

    /// <summary>A change at a union path drops the cached merges it can affect (<see cref="LayerStack.Forget"/>). Caller holds the lock.</summary>
    private void Changed(string path, bool tree = false) => _stack.Forget(path, tree);

    // ---------- nodes ----------

    private Node? NodeOf(ulong id) => _nodes.TryGetValue(id, out var n) && !n.Deleted ? n : null;

    private Node Remember(string path)
    {
        if (!_byPath.TryGetValue(path, out var node))
        {
            node = new Node(_nextNode++, path);
            _nodes[node.Id] = node;
            _byPath[path] = node;
        }
        node.Lookups++;
        return node;
    }

    /// <summary>The next lookup of the node's path makes a new node; this one lives on for the opens it has.</summary>
    private void Retire(Node node)
    {
        if (_byPath.TryGetValue(node.Path, out var current) && current == node) _byPath.Remove(node.Path);
    }

    private void Detach(string path)
    {
        if (!_byPath.Remove(path, out var node)) return;
        node.Deleted = true;
        if (node.Lookups > 0) return;
        _nodes.Remove(node.Id);
        DropBacking(node);
    }

    public void Forget(ulong node, ulong count)
    {
        lock (_lock)
        {
            if (node == RootId || !_nodes.TryGetValue(node, out var n)) return;
            n.Lookups = n.Lookups > count ? n.Lookups - count : 0;
            if (n.Lookups > 0) return;
            _nodes.Remove(node);
            DropBacking(n);
            if (!n.Deleted && _byPath.TryGetValue(n.Path, out var current) && current == n) _byPath.Remove(n.Path);
        }
    }

    /// <summary>
    /// The inode number shown: the file's own when every layer is on one file system (so hard links show as such to
    /// tar, du and commits made by reading the mount, as on fuse-overlayfs; a copy-up gives a new one), else the node's.
    /// </summary>
    private Attr AttrOf(ulong node, in Statx st) => new()
    {
        Ino = _oneFileSystem ? st.Ino : node,
        Size = st.Size,
        Blocks = st.Blocks,
        Atime = (ulong)st.Atime.Seconds, AtimeNsec = st.Atime.Nanoseconds,
        Mtime = (ulong)st.Mtime.Seconds, MtimeNsec = st.Mtime.Nanoseconds,
        Ctime = (ulong)st.Ctime.Seconds, CtimeNsec = st.Ctime.Nanoseconds,
        Mode = st.Mode,
        Nlink = st.Nlink,
        Uid = st.Uid,
        Gid = st.Gid,
        // The kernel decodes rdev with new_decode_dev.
        Rdev = (st.RdevMinor & 0xff) | (st.RdevMajor << 8) | ((st.RdevMinor & ~0xffu) << 12),
        BlkSize = 4096,
    };

    /// <summary>The attributes shown for a file: a rootless-form file's override applied.</summary>
    private Statx Shown(string full, in Statx st) => _rootless ? RootlessForm.Present(full, st) : st;

    private EntryOut Entry(Node node, string full, in Statx st)
    {
        var (s, ns) = FuseSession.Timeout;
        node.File = (st.DevMajor, st.DevMinor, st.Ino);
        return new EntryOut { NodeId = node.Id, EntryValid = s, EntryValidNsec = ns, AttrValid = s, AttrValidNsec = ns, Attr = AttrOf(node.Id, Shown(full, st)) };
    }

    private AttrOut AttrReply(Node node, string full, in Statx st)
    {
        var (s, ns) = FuseSession.Timeout;
        node.File = (st.DevMajor, st.DevMinor, st.Ino);
        return new AttrOut { AttrValid = s, AttrValidNsec = ns, Attr = AttrOf(node.Id, Shown(full, st)) };
    }

    /// <summary>
    /// A file with more names than one changed through one of them (link, unlink, chmod, chown, truncate, times):
    /// the kernel's attributes of its other names' nodes go, as they would with one inode. Caller holds the lock.
    /// </summary>
    /// <param name="st">The file's stat, from before the change when that is an unlink (the names it had then count).</param>
    private void OtherNamesChanged(Node? changed, in Statx st)
    {
        if (st.Nlink < 2 || st.IsDirectory || Cache is not { } cache) return;
        var file = (st.DevMajor, st.DevMinor, st.Ino);
        foreach (var other in _nodes.Values)
            if (other != changed && other.File == file) cache.InvalidateAttributes(other.Id);
    }

    /// <summary>A union path's place in the upper layer (see <see cref="LayerStack.Full"/>: valid under the lock).</summary>
    private string Upper(string path) => _stack.Full(0, path);

    private static string Join(Node parent, string name) => LayerPaths.Join(parent.Path, name);

    private static bool BadName(string name) => name.Length == 0 || name == "." || name == ".." || name.Contains('/') || OverlayFormat.IsWhiteoutName(name);

    // ---------- reading ----------

    public int Lookup(ulong parent, string name, out EntryOut entry)
    {
        entry = default;
        lock (_lock)
        {
            if (NodeOf(parent) is not { } p) return Errno.ENOENT;
            if (OverlayFormat.IsWhiteoutName(name)) return Errno.ENOENT;
            var path = Join(p, name);
            if (_stack.Resolve(path) is not { } found) return Errno.ENOENT;
            entry = Entry(Remember(path), found.Full, found.Stat);
            return 0;
        }
    }

    public int GetAttr(ulong node, ulong fh, out AttrOut attr)
    {
        attr = default;
        lock (_lock)
        {
            if (NodeOf(node) is { } n && _stack.Resolve(n.Path) is { } found)
            {
                attr = AttrReply(n, found.Full, found.Stat);
                return 0;
            }
            // No name left (unlinked while open): the open file answers, as fstat does, with nlink 0.
            if (OpenFileOf(node, fh) is not { } file) return Errno.ENOENT;
            var (s, ns) = FuseSession.Timeout;
            attr = new AttrOut { AttrValid = s, AttrValidNsec = ns, Attr = AttrOf(node, StatFd(file.Fd)) };
            return 0;
        }
    }

    /// <summary>An open file of a node: the one the request names, else any.</summary>
    private OpenFile? OpenFileOf(ulong node, ulong fh)
    {
        if (fh != 0 && _files.TryGetValue(fh, out var named) && named.Node.Id == node) return named;
        foreach (var file in _files.Values)
            if (file.Node.Id == node) return file;
        return null;
    }

    public int ReadLink(ulong node, out byte[] target)
    {
        target = [];
        lock (_lock)
        {
            if (NodeOf(node) is not { } n || _stack.Resolve(n.Path) is not { } found) return Errno.ENOENT;
            if (!found.Stat.IsSymlink) return Errno.EINVAL;
            target = System.Text.Encoding.UTF8.GetBytes(ReadLinkAt(AT_FDCWD, found.Full));
            return 0;
        }
    }

    public int OpenDir(ulong node, out ulong fh)
    {
        fh = 0;
        lock (_lock)
        {
            if (NodeOf(node) is not { } n || _stack.Resolve(n.Path) is not { Stat.IsDirectory: true }) return Errno.ENOTDIR;
            fh = (ulong)Interlocked.Increment(ref _nextHandle);
            _dirs[fh] = new DirSnapshot();
            return 0;
        }
    }

    /// <remarks>
    /// The kernel keeps listings in its directory cache (FOPEN_CACHE_DIR), filled by whichever open reads first, and
    /// a reader that runs past the cache goes on with its own open at the last offset it got. So an offset must mean
    /// the same to every open: each name of a directory gets one when first listed, higher than any before, and a
    /// read from an offset returns the names above it. Entries made since an open's listing come after the old ones,
    /// and no name is ever listed twice (an index into each open's listing would repeat or skip names).
    /// </remarks>
    public int ReadDir(ulong node, ulong fh, long offset, bool plus, ref DirentBuffer output)
    {
        if (!_dirs.TryGetValue(fh, out var open)) return Errno.EBADF;
        // The kernel marks its cache before asking for offset 0, so a listing taken here, not at opendir, is never
        // older than that mark (taken at opendir, one could miss a change made between the two).
        if (offset == 0 || open.Entries is null)
        {
            lock (_lock) open.Entries = NodeOf(node) is { } dir ? WithOffsets(dir, List(dir.Path) ?? []) : [];
        }
        if (offset < DotOffset && !output.Add(".", RootId, S_IFDIR >> 12, DotOffset, plus ? default(EntryOut) : null)) return 0;
        if (offset < DotDotOffset && !output.Add("..", RootId, S_IFDIR >> 12, DotDotOffset, plus ? default(EntryOut) : null)) return 0;
        var entries = open.Entries!;
        int first = FirstAbove(entries, offset);
        for (int i = first; i < entries.Count; i++)
        {
            var (name, type, at) = entries[i];
            if (!plus)
            {
                if (!output.Add(name, 0xffffffff, type >> 12, at)) break;
                continue;
            }
            lock (_lock)
            {
                // Each entry handed out with a node ID counts as a lookup; check the room before taking one.
                if (NodeOf(node) is not { } parent) return Errno.ENOENT;
                var path = Join(parent, name);
                EntryOut entry = default;
                if (_stack.Resolve(path) is { } found)
                {
                    if (!output.Fits(name, plus: true)) break;
                    entry = Entry(Remember(path), found.Full, found.Stat);
                }
                if (!output.Add(name, entry.NodeId == 0 ? 0xffffffff : entry.NodeId, type >> 12, at, entry)) break;
            }
        }
        return 0;
    }

    /// <summary>A listing in offset order, names new to the directory given the next offsets. Caller holds the lock.</summary>
    private static List<(string Name, uint Type, long Offset)> WithOffsets(Node dir, List<(string Name, uint Type)> names)
    {
        var cookies = dir.Cookies ??= new Dictionary<string, long>(StringComparer.Ordinal);
        var result = new List<(string Name, uint Type, long Offset)>(names.Count);
        foreach (var (name, type) in names)
        {
            if (!cookies.TryGetValue(name, out var at)) cookies[name] = at = FirstNameOffset + cookies.Count;
            result.Add((name, type, at));
        }
        result.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        return result;
    }

    /// <summary>The index of the first entry whose offset is above <paramref name="offset"/> (entries in offset order).</summary>
    private static int FirstAbove(List<(string Name, uint Type, long Offset)> entries, long offset)
    {
        int lo = 0, hi = entries.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (entries[mid].Offset <= offset) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    public void ReleaseDir(ulong fh) => _dirs.TryRemove(fh, out _);

    public int Access(ulong node, uint mask)
    {
        lock (_lock) return NodeOf(node) is { } n && _stack.Resolve(n.Path) is not null ? 0 : Errno.ENOENT;
    }

    public int Statfs(ulong node, out StatfsOut stat)
    {
        stat = default;
        if (StatVfs(_layers[0], out var v) != 0) return LastErrno;
        stat = new StatfsOut
        {
            Blocks = v.Blocks, Bfree = v.Bfree, Bavail = v.Bavail, Files = v.Files, Ffree = v.Ffree,
            Bsize = (uint)v.Bsize, NameLen = (uint)v.Namemax, Frsize = (uint)v.Frsize,
        };
        return 0;
    }
}
