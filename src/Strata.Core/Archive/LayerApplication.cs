using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.Archive;

/// <summary>
/// One layer being applied. Every parent directory is resolved with openat2(RESOLVE_IN_ROOT) from an fd of
/// the root, and the last component is acted on with *at() calls that never follow it, so symlinks in a path,
/// also ones this layer just made, resolve inside the root: nothing outside it is created, changed or followed.
/// </summary>
internal sealed partial class LayerApplication : IDisposable
{
    private const ulong InRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    private readonly string _root;
    private readonly ApplyOptions _options;
    private readonly int _rootFd;
    private readonly HashSet<string> _created = new(StringComparer.Ordinal);   // paths this layer wrote
    private readonly HashSet<string> _touched = new(StringComparer.Ordinal);   // their ancestors
    private readonly List<(string Path, long Seconds, int Nanoseconds)> _dirTimes = [];
    private readonly HashSet<string> _whiteouts = new(StringComparer.Ordinal);   // overlay mode: devices this layer made
    private readonly HashSet<string> _opaque = new(StringComparer.Ordinal);      // overlay mode: directories marked opaque
    private readonly Dictionary<string, (long Seconds, int Nanoseconds)> _keptTimes = new(StringComparer.Ordinal); // dirs changed without an entry
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
    private string? _cachedDir;
    private int _cachedFd = -1;

    public LayerApplication(string root, ApplyOptions options)
    {
        _root = Path.GetFullPath(root);
        _options = options;
        _rootFd = Check(OpenAt(AT_FDCWD, _root, O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "open", _root);
        if (options.LowerDirectories.Count > 0) CopyLowerAttributes("");
    }

    public ApplyResult Result { get; } = new();

    public void Apply(TarEntry entry)
    {
        Result.Entries++;
        var path = LayerPaths.Clean(entry.Name, entry.Name);
        try
        {
            if (path.Length == 0)
            {
                // The root is never replaced (CVE-2021-29136); a directory entry for it only sets attributes.
                if (entry.Type == TarEntryType.Directory) SetRootAttributes(entry);
                return;
            }
            // aufs-era hard-link stores (.wh..wh.plnk/*) and other root-level metadata: not content.
            if (OverlayFormat.IsMetaName(path) && path != OverlayFormat.OpaqueMarker) return;
            var (dir, name) = LayerPaths.Split(path);
            if (OverlayFormat.IsWhiteoutName(name))
            {
                ApplyWhiteout(entry, dir, name);
                return;
            }
            Create(entry, path, dir, name);
        }
        catch (ErrnoException e)
        {
            throw StrataException.Invalid($"layer entry \"{LayerPaths.Trim(entry.Name)}\": {e.Message}");
        }
    }

    private void ApplyWhiteout(TarEntry entry, string dir, string name)
    {
        if (_options.Whiteouts == WhiteoutMode.Overlay)
        {
            ApplyOverlayWhiteout(entry, dir, name);
            return;
        }
        if (name == OverlayFormat.OpaqueMarker)
        {
            int fd = ResolveDirectory(dir, create: true);
            Prune(fd, dir);
            return;
        }
        if (OverlayFormat.IsMetaName(name)) return; // .wh..wh.plnk and the like
        var target = OverlayFormat.Hidden(name);
        if (target is "" or "." or "..")
            throw StrataException.Invalid($"layer entry \"{LayerPaths.Trim(entry.Name)}\": invalid whiteout");
        int parent = ResolveDirectory(dir, create: false);
        if (parent < 0 || !TryLstatAt(parent, target, out var st)) return; // nothing below to hide
        KeepTime(dir, parent);
        var full = LayerPaths.Join(dir, target);
        // Whiteouts hide lower layers only: what this layer wrote survives, in any order.
        if (_created.Contains(full) || _touched.Contains(full))
        {
            if (st.IsDirectory) Prune(OpenChild(parent, target), full, closeFd: true);
            return;
        }
        Remove(parent, target, full);
    }

    /// <summary>Removes the lower content of a directory, keeping what this layer wrote.</summary>
    private void Prune(int dirFd, string dir, bool closeFd = false)
    {
        KeepTime(dir, dirFd);
        try
        {
            foreach (var child in ListNames(dirFd))
            {
                var full = LayerPaths.Join(dir, child);
                if (!TryLstatAt(dirFd, child, out var st)) continue;
                if (_created.Contains(full) || _touched.Contains(full))
                {
                    if (st.IsDirectory) Prune(OpenChild(dirFd, child), full, closeFd: true);
                    continue;
                }
                Remove(dirFd, child, full);
            }
        }
        finally
        {
            if (closeFd) Close(dirFd);
        }
    }

    private void Create(TarEntry entry, string path, string dir, string name)
    {
        // overlayfs would act on these (metacopy/redirect tricks): refused before anything is written.
        foreach (var key in entry.Xattrs.Keys)
            if (OverlayFormat.IsFormXattr(key))
                throw StrataException.Invalid($"layer entry \"{LayerPaths.Trim(entry.Name)}\": refusing the storage-private xattr {key}");
        int parent = ResolveDirectory(dir, create: true);
        KeepTime(dir, parent);
        bool wasWhiteout = _whiteouts.Remove(path);
        if (TryLstatAt(parent, name, out var existing))
        {
            if (!(existing.IsDirectory && entry.Type == TarEntryType.Directory)) Remove(parent, name, path);
        }
        switch (entry.Type)
        {
            case TarEntryType.Directory:
                if (!existing.IsDirectory) _ = Check(MkdirAt(parent, name, 0x1c0), "mkdir", path);
                // A directory this layer whited out and then made again hides the lower one: opaque (row 31).
                if (wasWhiteout) MarkOpaque(path);
                break;
            case TarEntryType.Regular:
                WriteFile(parent, name, path, entry);
                break;
            case TarEntryType.Symlink:
                _ = Check(SymlinkAt(entry.LinkName, parent, name), "symlink", path);
                break;
            case TarEntryType.HardLink:
                Link(entry, parent, name, path);
                Mark(path);
                return; // a hard link shares its target's inode and metadata
            case TarEntryType.CharDevice or TarEntryType.BlockDevice when _options.Rootless:
                // Kept as an empty file; its override says which device it is.
                Close(Check(OpenAt(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0x180), "create", path));
                break;
            case TarEntryType.CharDevice or TarEntryType.BlockDevice:
                if (!_options.PreserveOwnership)
                {
                    Result.Warnings.Add($"{path}: device node skipped (needs root)");
                    return;
                }
                uint kind = entry.Type == TarEntryType.CharDevice ? S_IFCHR : S_IFBLK;
                _ = Check(MknodAt(parent, name, kind | 0x180, MakeDev(entry.DevMajor, entry.DevMinor)), "mknod", path);
                break;
            case TarEntryType.Fifo:
                _ = Check(MknodAt(parent, name, S_IFIFO | 0x180, 0), "mkfifo", path);
                break;
        }
        Mark(path);
        SetAttributes(parent, name, path, entry);
    }

    private void Mark(string path)
    {
        _created.Add(path);
        foreach (var a in LayerPaths.Ancestors(path)) _touched.Add(a);
    }

    private void WriteFile(int parent, string name, string path, TarEntry entry)
    {
        int fd = Check(OpenAt(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0x180), "create", path);
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var data = entry.Data ?? Stream.Null;
        bool sparse = entry.SparseMap is not null;
        long offset = 0;
        int n;
        while ((n = data.ReadAtLeast(_buffer, _buffer.Length, throwOnEndOfStream: false)) > 0)
        {
            if (sparse) WriteSkippingHoles(handle, _buffer.AsSpan(0, n), offset);
            else RandomAccess.Write(handle, _buffer.AsSpan(0, n), offset);
            offset += n;
        }
        if (offset != entry.Size) throw StrataException.Invalid($"layer entry \"{LayerPaths.Trim(entry.Name)}\": {offset} of {entry.Size} bytes");
        if (sparse) Check(Ftruncate(fd, entry.Size), "truncate", path);
        Result.Bytes += offset;
    }

    /// <summary>Leaves all-zero 4 KiB blocks of a sparse file unwritten, so they stay holes.</summary>
    private static void WriteSkippingHoles(SafeFileHandle handle, ReadOnlySpan<byte> data, long offset)
    {
        const int Page = 4096;
        for (int i = 0; i < data.Length; i += Page)
        {
            var block = data.Slice(i, Math.Min(Page, data.Length - i));
            if (block.ContainsAnyExcept((byte)0)) RandomAccess.Write(handle, block, offset + i);
        }
    }

    private void Link(TarEntry entry, int parent, string name, string path)
    {
        var target = LayerPaths.Clean(entry.LinkName, entry.Name);
        if (target.Length == 0) throw StrataException.Invalid($"layer entry \"{LayerPaths.Trim(entry.Name)}\": hard link to the root");
        var (tdir, tname) = LayerPaths.Split(target);
        int tfd = tdir.Length == 0 ? _rootFd : OpenAt2(_rootFd, tdir, (ulong)(O_PATH | O_DIRECTORY | O_CLOEXEC), InRoot);
        if (tfd < 0) throw StrataException.Invalid($"layer entry \"{LayerPaths.Trim(entry.Name)}\": hard link target {target} not found");
        try
        {
            // flags 0: a link to a symlink links the symlink itself, never what it points at.
            if (LinkAt(tfd, tname, parent, name, 0) != 0)
            {
                int errno = LastErrno;
                if (errno == Errno.ENOENT) throw StrataException.Invalid($"layer entry \"{LayerPaths.Trim(entry.Name)}\": hard link target {target} not found");
                throw new ErrnoException(errno, "link", path);
            }
        }
        finally
        {
            if (tfd != _rootFd) Close(tfd);
        }
    }

    public void Dispose()
    {
        InvalidateCache();
        Close(_rootFd);
        ArrayPool<byte>.Shared.Return(_buffer);
    }
}
