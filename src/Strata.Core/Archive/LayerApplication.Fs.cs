using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.Archive;

/// <summary>Directory resolution inside the root, removal, and attributes.</summary>
internal sealed partial class LayerApplication
{
    /// <summary>
    /// An O_PATH fd of a directory inside the root (owned by a one-entry cache: layers list siblings together).
    /// Missing directories are made when asked; a non-directory in the way is replaced. -1 when absent.
    /// </summary>
    private int ResolveDirectory(string dir, bool create)
    {
        if (dir.Length == 0) return _rootFd;
        if (_cachedDir == dir) return _cachedFd;
        int fd = OpenAt2(_rootFd, dir, (ulong)(O_PATH | O_DIRECTORY | O_CLOEXEC), InRoot);
        if (fd < 0)
        {
            int errno = LastErrno;
            if (errno is not (Errno.ENOENT or Errno.ENOTDIR)) throw new ErrnoException(errno, "open", dir);
            if (!create) return -1;
            MakeDirectories(dir);
            fd = Check(OpenAt2(_rootFd, dir, (ulong)(O_PATH | O_DIRECTORY | O_CLOEXEC), InRoot), "open", dir);
        }
        InvalidateCache();
        _cachedDir = dir;
        _cachedFd = fd;
        return fd;
    }

    /// <summary>
    /// mkdir -p inside the root; implied directories get 0755 (a later entry may set them). A symlink on the way
    /// is followed with chroot semantics, its missing target made (as containerd does); a file is replaced.
    /// </summary>
    private void MakeDirectories(string dir, int depth = 0)
    {
        if (depth > 40) throw new ErrnoException(Errno.ELOOP, "mkdir", dir);
        var components = dir.Split('/');
        string current = "";
        for (int i = 0; i < components.Length; i++)
        {
            var component = components[i];
            int parent = current.Length == 0 ? _rootFd : Check(OpenAt2(_rootFd, current, (ulong)(O_PATH | O_DIRECTORY | O_CLOEXEC), InRoot), "open", current);
            try
            {
                var next = LayerPaths.Join(current, component);
                if (TryLstatAt(parent, component, out var st))
                {
                    if (st.IsDirectory) { current = next; continue; }
                    if (st.IsSymlink)
                    {
                        int probe = OpenAt2(_rootFd, next, (ulong)(O_PATH | O_DIRECTORY | O_CLOEXEC), InRoot);
                        if (probe >= 0) { Close(probe); current = next; continue; }
                        var target = ReadLinkAt(parent, component);
                        var resolved = LayerPaths.CleanInRoot(target.StartsWith('/') ? target : LayerPaths.Join(current, target));
                        var rest = string.Join('/', components[(i + 1)..]);
                        MakeDirectories(rest.Length == 0 ? resolved : LayerPaths.Join(resolved, rest), depth + 1);
                        return;
                    }
                    // A file where a directory must be: replace it.
                    Remove(parent, component, next);
                }
                KeepTime(current, parent);
                if (MkdirAt(parent, component, 0x1ed) != 0 && LastErrno != Errno.EEXIST) throw new ErrnoException(LastErrno, "mkdir", next);
                _touched.Add(next);
                if (_options.LowerDirectories.Count > 0) CopyLowerAttributes(next);
                current = next;
            }
            finally
            {
                if (parent != _rootFd) Close(parent);
            }
        }
    }

    /// <summary>
    /// A directory this layer changes without carrying an entry for keeps its mtime, as umoci does: the
    /// time then says when the directory's own layer made it, not when this unpack ran.
    /// </summary>
    private void KeepTime(string dir, int dirFd)
    {
        if (_keptTimes.ContainsKey(dir) || _created.Contains(dir)) return;
        var st = StatFd(dirFd);
        _keptTimes[dir] = (st.Mtime.Seconds, (int)st.Mtime.Nanoseconds);
    }

    private static int OpenChild(int parent, string name) =>
        Check(OpenAt(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0), "open", name);

    /// <summary>
    /// Removes a name and, for a directory, everything below it, never following a symlink. The cached
    /// directory fd is dropped when it lies at or below what goes: a new directory may take that path.
    /// </summary>
    private void Remove(int parent, string name, string fullPath)
    {
        if (_cachedDir is not null && (_cachedDir == fullPath || _cachedDir.StartsWith(fullPath + "/", StringComparison.Ordinal)))
            InvalidateCache();
        RemoveTree(parent, name);
    }

    private static void RemoveTree(int parent, string name)
    {
        if (UnlinkAt(parent, name, 0) == 0) return;
        int errno = LastErrno;
        if (errno is not (Errno.EISDIR or Errno.EPERM)) throw new ErrnoException(errno, "remove", name);
        int fd = OpenChild(parent, name);
        try
        {
            foreach (var child in ListNames(fd))
            {
                RemoveTree(fd, child);
            }
        }
        finally
        {
            Close(fd);
        }
        Check(UnlinkAt(parent, name, AT_REMOVEDIR), "rmdir", name);
    }

    /// <summary>Names in a directory given by fd (through /proc/self/fd: the fd, not a path, fixes which directory).</summary>
    private static List<string> ListNames(int dirFd)
    {
        var names = new List<string>();
        foreach (var p in Directory.EnumerateFileSystemEntries($"/proc/self/fd/{dirFd}"))
            names.Add(Path.GetFileName(p));
        return names;
    }

    private void SetAttributes(int parent, string name, string path, TarEntry entry)
    {
        bool symlink = entry.Type == TarEntryType.Symlink;
        if (_options.Rootless)
        {
            if (!symlink) SetRootlessAttributes($"/proc/self/fd/{parent}/{name}", parent, name, path, entry);
            if (entry.Xattrs.Count > 0) SetXattrs($"/proc/self/fd/{parent}/{name}", path, entry, symlink);
            if (entry.Type == TarEntryType.Directory) _dirTimes.Add((path, entry.MTimeSeconds, entry.MTimeNanoseconds));
            else SetTimes(parent, name, path, entry.MTimeSeconds, entry.MTimeNanoseconds);
            return;
        }
        // chown first: it clears setuid/setgid, which chmod then sets.
        if (_options.PreserveOwnership) Check(FchownAt(parent, name, entry.Uid, entry.Gid, AT_SYMLINK_NOFOLLOW), "chown", path);
        if (!symlink) Check(FchmodAt(parent, name, (uint)entry.Mode & 0xfff, 0), "chmod", path);
        if (entry.Xattrs.Count > 0) SetXattrs($"/proc/self/fd/{parent}/{name}", path, entry, symlink);
        if (entry.Type == TarEntryType.Directory) _dirTimes.Add((path, entry.MTimeSeconds, entry.MTimeNanoseconds));
        else SetTimes(parent, name, path, entry.MTimeSeconds, entry.MTimeNanoseconds);
    }

    private void SetXattrs(string procPath, string path, TarEntry entry, bool symlink)
    {
        foreach (var (key, value) in entry.Xattrs)
        {
            try
            {
                SetXattr(procPath, _options.Rootless ? RootlessForm.StoredName(key) : key, value);
            }
            catch (ErrnoException e) when (e.Number is Errno.EPERM or Errno.EOPNOTSUPP || symlink)
            {
                // user.* on symlinks, or trusted.*/security.* without privilege: the kernel says no.
                Result.Warnings.Add($"{path}: xattr {key} not set: {e.Message}");
            }
        }
    }

    private static void SetTimes(int dirFd, string name, string path, long seconds, int nanoseconds)
    {
        ReadOnlySpan<Timespec> times = [new() { Seconds = seconds, Nanoseconds = nanoseconds }, new() { Seconds = seconds, Nanoseconds = nanoseconds }];
        Check(UtimensAt(dirFd, name, times, AT_SYMLINK_NOFOLLOW), "utimes", path);
    }

    /// <summary>The rootless form: a mode its owner can always work with, and an override where that tells less than the layer.</summary>
    private static void SetRootlessAttributes(string procPath, int parent, string name, string path, TarEntry entry)
    {
        uint type = entry.Type switch
        {
            TarEntryType.Directory => S_IFDIR,
            TarEntryType.CharDevice => S_IFCHR,
            TarEntryType.BlockDevice => S_IFBLK,
            TarEntryType.Fifo => S_IFIFO,
            _ => S_IFREG,
        };
        uint realType = type is S_IFCHR or S_IFBLK ? S_IFREG : type;
        Check(FchmodAt(parent, name, RootlessForm.RealPermissions(realType, (uint)entry.Mode), 0), "chmod", path);
        var attributes = new RootlessForm.Attributes((uint)entry.Uid, (uint)entry.Gid, type | ((uint)entry.Mode & 0xfff), (uint)entry.DevMajor, (uint)entry.DevMinor);
        if (RootlessForm.NeedsOverride(attributes, realType)) SetXattr(procPath, OverlayFormat.OverrideStat, RootlessForm.Format(attributes));
    }

    private void SetRootAttributes(TarEntry entry)
    {
        _created.Add("");
        if (_options.Rootless)
        {
            SetRootlessAttributes(_root, AT_FDCWD, _root, _root, entry);
            _dirTimes.Add(("", entry.MTimeSeconds, entry.MTimeNanoseconds));
            return;
        }
        if (_options.PreserveOwnership) Check(FchownAt(AT_FDCWD, _root, entry.Uid, entry.Gid, 0), "chown", _root);
        Check(FchmodAt(AT_FDCWD, _root, (uint)entry.Mode & 0xfff, 0), "chmod", _root);
        _dirTimes.Add(("", entry.MTimeSeconds, entry.MTimeNanoseconds));
    }

    /// <summary>Directory times last: creating their children changed them.</summary>
    public void Finish()
    {
        foreach (var (path, (seconds, nanoseconds)) in _keptTimes)
            if (!_created.Contains(path)) _dirTimes.Add((path, seconds, nanoseconds));
        foreach (var (path, seconds, nanoseconds) in _dirTimes)
        {
            if (path.Length == 0)
            {
                SetTimes(AT_FDCWD, _root, _root, seconds, nanoseconds);
                continue;
            }
            var (dir, name) = LayerPaths.Split(path);
            int parent = ResolveDirectory(dir, create: false);
            if (parent >= 0 && TryLstatAt(parent, name, out var st) && st.IsDirectory) SetTimes(parent, name, path, seconds, nanoseconds);
        }
    }

    private void InvalidateCache()
    {
        if (_cachedFd >= 0) Close(_cachedFd);
        _cachedFd = -1;
        _cachedDir = null;
    }
}
