using Strata.Archive;
using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.Fuse;

/// <summary>Copy-up: the first change to a lower object copies it, data and metadata, into the upper layer.</summary>
internal sealed partial class UnionFileSystem
{
    /// <summary>Ensures a union path (and its parents) has its own copy in the upper layer. Caller holds the lock.</summary>
    private int CopyUp(string path)
    {
        if (path.Length == 0) return 0;
        var upperFull = Upper(path);
        if (StatPath(upperFull) is { } mine && !OverlayFormat.IsWhiteout(mine)) return 0;
        if (_stack.Resolve(path) is not { } found) return Errno.ENOENT;
        var (dir, _) = LayerPaths.Split(path);
        int e = CopyUp(dir);
        if (e != 0) return e;
        upperFull = Upper(path); // a deep one may pass through directories the line above made
        // A copy-up is no change to its directory: its times are put back after, as overlayfs does.
        var parentFull = Upper(dir);
        var parentBefore = StatPath(parentFull);
        e = CopyUpOne(found, upperFull);
        if (e == 0 && parentBefore is { } p) SetTimes(parentFull, p);
        Changed(path);
        if (e == 0 && _byPath.TryGetValue(path, out var node))
        {
            node.CopiedUp = true;
            // Another file now: its inode number (shown where the layers share a file system) has changed.
            if (_oneFileSystem) Cache?.InvalidateAttributes(node.Id);
        }
        return e;
    }

    private int CopyUpOne((int Layer, string Full, Statx Stat) found, string upperFull)
    {
        int e;
        var st = found.Stat;
        if (st.IsDirectory)
        {
            if (MkdirAt(AT_FDCWD, upperFull, 0x1c0 /* 0700: C# has no octal literals */) != 0) return LastErrno;
            e = CopyMetadata(found.Full, upperFull, st);
        }
        else if (st.IsRegular)
        {
            e = CopyFile(found.Full, upperFull, st);
        }
        else if (st.IsSymlink)
        {
            if (SymlinkAt(ReadLinkAt(AT_FDCWD, found.Full), AT_FDCWD, upperFull) != 0) return LastErrno;
            e = CopyMetadata(found.Full, upperFull, st);
        }
        else
        {
            if (MknodAt(AT_FDCWD, upperFull, st.Mode, MakeDev((int)st.RdevMajor, (int)st.RdevMinor)) != 0) return LastErrno;
            e = CopyMetadata(found.Full, upperFull, st);
        }
        return e;
    }

    /// <summary>A directory moves whole: everything visible under it is copied up first.</summary>
    private int CopyUpTree(string path)
    {
        int e = CopyUp(path);
        if (e != 0) return e;
        foreach (var (name, type) in List(path) ?? [])
        {
            var child = LayerPaths.Join(path, name);
            e = type == S_IFDIR ? CopyUpTree(child) : CopyUp(child);
            if (e != 0) return e;
        }
        return 0;
    }

    /// <summary>Data into a staging file next to the upper layer, metadata on it, then one rename into place.</summary>
    private unsafe int CopyFile(string source, string target, Statx st)
    {
        var staging = Path.Combine(_work!, $"copyup-{Guid.NewGuid():N}");
        int src = OpenAt(AT_FDCWD, source, O_RDONLY | O_CLOEXEC, 0);
        if (src < 0) return LastErrno;
        int dst = OpenAt(AT_FDCWD, staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0x180 /* 0600 */);
        if (dst < 0) { int err = LastErrno; Close(src); return err; }
        int e = 0;
        try
        {
            long left = (long)st.Size;
            while (left > 0)
            {
                nint n = CopyFileRange(src, null, dst, null, (nuint)Math.Min(left, 1L << 30), 0);
                if (n < 0) { e = LastErrno; break; }
                if (n == 0) break;
                left -= n;
            }
        }
        finally
        {
            Close(src);
            Close(dst);
        }
        if (e == 0) e = CopyMetadata(source, staging, st);
        if (e == 0 && RenameAt2(AT_FDCWD, staging, AT_FDCWD, target, 0) != 0) e = LastErrno;
        if (e != 0) UnlinkAt(AT_FDCWD, staging, 0);
        return e;
    }

    /// <summary>Owner, mode, xattrs (not overlay's own), then times last (every other change touches them).</summary>
    private static int CopyMetadata(string source, string target, Statx st)
    {
        // The file's real owner: in the rootless form that is the user, and its override xattr comes along below.
        if (FchownAt(AT_FDCWD, target, (int)st.Uid, (int)st.Gid, AT_SYMLINK_NOFOLLOW) != 0) return LastErrno;
        if (!st.IsSymlink && FchmodAt(AT_FDCWD, target, st.Mode & 0xfffu, 0) != 0) return LastErrno;
        foreach (var (name, value) in ListXattrs(source))
        {
            if (OverlayFormat.IsOverlayXattr(name)) continue;
            try { Libc.SetXattr(target, name, value); }
            catch (ErrnoException x) when (x.Number is Errno.EPERM or Errno.EOPNOTSUPP) { } // user.* on symlinks
        }
        return SetTimes(target, st);
    }

    private static int SetTimes(string target, Statx st)
    {
        Span<Timespec> times =
        [
            new Timespec { Seconds = st.Atime.Seconds, Nanoseconds = st.Atime.Nanoseconds },
            new Timespec { Seconds = st.Mtime.Seconds, Nanoseconds = st.Mtime.Nanoseconds },
        ];
        return UtimensAt(AT_FDCWD, target, times, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : LastErrno;
    }
}
