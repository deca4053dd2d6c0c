using System.Text;
using Strata.Archive;
using Strata.Native;
using static Strata.Fuse.FuseProtocol;
using static Strata.Native.Libc;

namespace Strata.Fuse;

/// <summary>Everything that changes the tree: new objects, removals, renames, links, attributes, xattrs, copy-up.</summary>
internal sealed partial class UnionFileSystem
{

    /// <summary>Checks a new name under a parent and readies the upper directory for it (copy-up, whiteout gone).</summary>
    private int PrepareNew(ulong parent, string name, out string path, out string full)
    {
        path = full = "";
        if (!Writable) return Errno.EROFS;
        if (NodeOf(parent) is not { } p) return Errno.ENOENT;
        if (BadName(name)) return Errno.EINVAL;
        path = Join(p, name);
        if (_stack.Resolve(path) is not null) return Errno.EEXIST;
        if (_stack.Resolve(p.Path) is not { Stat.IsDirectory: true }) return Errno.ENOTDIR;
        int e = CopyUp(p.Path);
        if (e != 0) return e;
        full = Upper(path);
        // A whiteout hid a lower object of this name: the new object takes its place.
        if (StatPath(full) is { } st && OverlayFormat.IsWhiteout(st) && UnlinkAt(AT_FDCWD, full, 0) != 0) return LastErrno;
        return 0;
    }

    /// <summary>
    /// A new object belongs to its caller, with the mode the request gives (the kernel applied the caller's umask; this
    /// process's own, applied again by the create, and the set-ID bits a chown drops are put right). In the rootless
    /// form the mounting user is root (as in its own user namespace).
    /// </summary>
    private int Own(string full, FuseCaller caller, uint mode)
    {
        if (!_rootless)
        {
            if (FchownAt(AT_FDCWD, full, (int)caller.Uid, (int)caller.Gid, AT_SYMLINK_NOFOLLOW) != 0) return LastErrno;
            if (StatPath(full) is not { } st) return Errno.ENOENT;
            if (st.IsSymlink) return 0;
            // A directory keeps the set-group-ID bit it inherits from its parent.
            uint wanted = (mode & 0xfff) | (st.IsDirectory ? st.Mode & S_ISGID : 0);
            return (st.Mode & 0xfffu) == wanted || FchmodAt(AT_FDCWD, full, wanted, 0) == 0 ? 0 : LastErrno;
        }
        uint euid = GetEuid();
        return KeepAttributes(full, new RootlessForm.Attributes(caller.Uid == euid ? 0 : caller.Uid, caller.Uid == euid ? 0 : caller.Gid, mode, 0, 0));
    }

    /// <summary>The rootless form: a mode its owner can work with on disk, the meant attributes in the override where they differ.</summary>
    private static int KeepAttributes(string full, RootlessForm.Attributes a)
    {
        if (StatPath(full) is not { } st) return Errno.ENOENT;
        if (st.IsSymlink) return 0;
        if (FchmodAt(AT_FDCWD, full, RootlessForm.RealPermissions(st.Type, a.Mode), 0) != 0) return LastErrno;
        try
        {
            if (RootlessForm.NeedsOverride(a, st.Type)) Libc.SetXattr(full, OverlayFormat.OverrideStat, RootlessForm.Format(a));
            else if (Lremovexattr(full, OverlayFormat.OverrideStat) != 0 && LastErrno != Errno.ENODATA) return LastErrno;
        }
        catch (ErrnoException x)
        {
            return x.Number;
        }
        return 0;
    }

    private int Finish(string path, string full, FuseCaller caller, uint mode, out EntryOut entry)
    {
        entry = default;
        int e = Own(full, caller, mode);
        Changed(path, tree: (mode & S_IFMT) == S_IFDIR);
        if (e != 0) return e;
        entry = Entry(Remember(path), full, StatPath(full)!.Value);
        return 0;
    }

    public int Mkdir(ulong parent, string name, uint mode, FuseCaller caller, out EntryOut entry)
    {
        entry = default;
        lock (_lock)
        {
            bool hidLower = NodeOf(parent) is { } p && LowerHas(Join(p, name));
            int e = PrepareNew(parent, name, out var path, out var full);
            if (e != 0) return e;
            if (MkdirAt(AT_FDCWD, full, mode & 0xfff) != 0) return LastErrno;
            // Over a deleted lower directory the new one starts empty: opaque, as the kernel makes it.
            if (hidLower) Libc.SetXattr(full, OverlayFormat.OpaqueXattr(_userMarkers), "y"u8);
            return Finish(path, full, caller, S_IFDIR | (mode & 0xfff), out entry);
        }
    }

    public int Mknod(ulong parent, string name, uint mode, uint rdev, FuseCaller caller, out EntryOut entry)
    {
        entry = default;
        lock (_lock)
        {
            int e = PrepareNew(parent, name, out var path, out var full);
            if (e != 0) return e;
            // rdev arrives in the kernel's new_encode_dev form.
            uint major = (rdev >> 8) & 0xfff, minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
            if (_rootless && (mode & S_IFMT) is S_IFCHR or S_IFBLK)
            {
                // No device without privilege: an empty file whose override says which device it is.
                int fd = OpenAt(AT_FDCWD, full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0x180);
                if (fd < 0) return LastErrno;
                Close(fd);
                e = Finish(path, full, caller, mode, out entry);
                if (e != 0) return e;
                var a = RootlessForm.Parse(Libc.GetXattr(full, OverlayFormat.OverrideStat) ?? [], S_IFREG)!.Value;
                e = KeepAttributes(full, a with { Major = major, Minor = minor });
                entry = Entry(_byPath[path], full, StatPath(full)!.Value);
                return e;
            }
            if (MknodAt(AT_FDCWD, full, mode, MakeDev((int)major, (int)minor)) != 0) return LastErrno;
            return Finish(path, full, caller, mode, out entry);
        }
    }

    public int Symlink(ulong parent, string name, string target, FuseCaller caller, out EntryOut entry)
    {
        entry = default;
        lock (_lock)
        {
            int e = PrepareNew(parent, name, out var path, out var full);
            if (e != 0) return e;
            if (SymlinkAt(target, AT_FDCWD, full) != 0) return LastErrno;
            return Finish(path, full, caller, S_IFLNK | 0x1ff, out entry);
        }
    }

    public int Link(ulong node, ulong newParent, string newName, out EntryOut entry)
    {
        entry = default;
        lock (_lock)
        {
            if (NodeOf(node) is not { } n || _stack.Resolve(n.Path) is not { } src) return Errno.ENOENT;
            if (src.Stat.IsDirectory) return Errno.EPERM;
            int e = PrepareNew(newParent, newName, out var path, out var full);
            if (e != 0) return e;
            e = CopyUp(n.Path);
            if (e != 0) return e;
            if (LinkAt(AT_FDCWD, Upper(n.Path), AT_FDCWD, full, 0) != 0) return LastErrno;
            Changed(path);
            var st = StatPath(full)!.Value;
            var added = Remember(path);
            entry = Entry(added, full, st);
            // The source's own node too: its nlink changed, and a copy-up made it another file.
            Cache?.InvalidateAttributes(n.Id);
            OtherNamesChanged(added, st);
            return 0;
        }
    }

    public int Unlink(ulong parent, string name) => Remove(parent, name, directory: false);

    public int Rmdir(ulong parent, string name) => Remove(parent, name, directory: true);

    private int Remove(ulong parent, string name, bool directory)
    {
        lock (_lock)
        {
            if (!Writable) return Errno.EROFS;
            if (NodeOf(parent) is not { } p) return Errno.ENOENT;
            var path = Join(p, name);
            if (_stack.Resolve(path) is not { } found) return Errno.ENOENT;
            if (directory && !found.Stat.IsDirectory) return Errno.ENOTDIR;
            if (!directory && found.Stat.IsDirectory) return Errno.EISDIR;
            if (directory && List(path) is { Count: > 0 }) return Errno.ENOTEMPTY;
            int e = Erase(path);
            if (e != 0) return e;
            _byPath.TryGetValue(path, out var gone);
            Detach(path);
            OtherNamesChanged(gone, found.Stat);
            return 0;
        }
    }

    /// <summary>Makes a union path vanish: its upper copy goes, and a whiteout covers what a lower still holds.</summary>
    private int Erase(string path)
    {
        var upperFull = Upper(path);
        if (StatPath(upperFull) is { } st)
        {
            // An upper directory of an empty union directory holds at most whiteouts.
            if (st.IsDirectory) Directory.Delete(upperFull, recursive: true);
            else if (UnlinkAt(AT_FDCWD, upperFull, 0) != 0) return LastErrno;
        }
        Changed(path, tree: true);
        if (LowerHas(path))
        {
            var (dir, _) = LayerPaths.Split(path);
            int e = CopyUp(dir);
            if (e != 0) return e;
            if (OverlayFormat.MakeWhiteout(AT_FDCWD, upperFull) != 0) return LastErrno;
            Changed(path);
        }
        return 0;
    }

    /// <summary>Whether a lower layer would show something at this path if the upper did not cover it.</summary>
    private bool LowerHas(string path) => _stack.ShowsFrom(Writable ? 1 : 0, path);

    public int Rename(ulong parent, string name, ulong newParent, string newName, uint flags)
    {
        lock (_lock)
        {
            if (!Writable) return Errno.EROFS;
            if ((flags & ~RENAME_NOREPLACE) != 0) return Errno.EINVAL;
            if (NodeOf(parent) is not { } p || NodeOf(newParent) is not { } np) return Errno.ENOENT;
            if (BadName(newName)) return Errno.EINVAL;
            var from = Join(p, name);
            var to = Join(np, newName);
            if (_stack.Resolve(from) is not { } src) return Errno.ENOENT;
            if (from == to) return 0;
            if (to.StartsWith(from + "/", StringComparison.Ordinal)) return Errno.EINVAL;
            if (_stack.Resolve(np.Path) is not { Stat.IsDirectory: true }) return Errno.ENOTDIR;
            if (_stack.Resolve(to) is { } dst)
            {
                if ((flags & RENAME_NOREPLACE) != 0) return Errno.EEXIST;
                // Two hard links to one file: rename(2) does nothing.
                if (dst.Layer == src.Layer && dst.Stat.Ino == src.Stat.Ino && !src.Stat.IsDirectory) return 0;
                if (src.Stat.IsDirectory && !dst.Stat.IsDirectory) return Errno.ENOTDIR;
                if (!src.Stat.IsDirectory && dst.Stat.IsDirectory) return Errno.EISDIR;
                if (dst.Stat.IsDirectory && List(to) is { Count: > 0 }) return Errno.ENOTEMPTY;
                int e0 = Erase(to);
                if (e0 != 0) return e0;
                _byPath.TryGetValue(to, out var gone);
                Detach(to);
                OtherNamesChanged(gone, dst.Stat);
            }
            // A directory from a lower layer moves whole: copied up with everything under it, then made opaque so
            // nothing a lower layer holds at the new name merges into it.
            int e = src.Stat.IsDirectory ? CopyUpTree(from) : CopyUp(from);
            if (e == 0) e = CopyUp(np.Path);
            if (e != 0) return e;
            var toFull = Upper(to);
            if (StatPath(toFull) is { } old && OverlayFormat.IsWhiteout(old) && UnlinkAt(AT_FDCWD, toFull, 0) != 0) return LastErrno;
            if (RenameAt2(AT_FDCWD, Upper(from), AT_FDCWD, toFull, 0) != 0) return LastErrno;
            if (src.Stat.IsDirectory && LowerHas(to)) Libc.SetXattr(toFull, OverlayFormat.OpaqueXattr(_userMarkers), "y"u8);
            Changed(from, tree: true);
            Changed(to, tree: true);
            if (LowerHas(from))
            {
                if (OverlayFormat.MakeWhiteout(AT_FDCWD, Upper(from)) != 0) return LastErrno;
                Changed(from);
            }
            Move(from, to);
            return 0;
        }
    }

    /// <summary>Known nodes at or below a renamed path follow it.</summary>
    private void Move(string from, string to)
    {
        foreach (var node in _byPath.Values.Where(n => n.Path == from || n.Path.StartsWith(from + "/", StringComparison.Ordinal)).ToList())
        {
            _byPath.Remove(node.Path);
            node.Path = to + node.Path[from.Length..];
            _byPath[node.Path] = node;
        }
    }

    /// <summary>The upper copy of a node about to change (copied up first). Caller holds the lock.</summary>
    private int UpperCopy(ulong node, out string full)
    {
        full = "";
        if (NodeOf(node) is not { } n || _stack.Resolve(n.Path) is null) return Errno.ENOENT;
        if (!Writable) return Errno.EROFS;
        int e = CopyUp(n.Path);
        full = Upper(n.Path);
        return e;
    }

    public int SetAttr(ulong node, in SetattrIn set, FuseCaller caller, out AttrOut attr)
    {
        attr = default;
        lock (_lock)
        {
            int e = UpperCopy(node, out var full);
            var n = NodeOf(node);
            if (e == Errno.ENOENT && OpenFileOf(node, (set.Valid & FattrFh) != 0 ? set.Fh : 0) is { } open) return SetAttr(node, open, set, out attr);
            if (e != 0) return e;
            if (_rootless && (set.Valid & (FattrMode | FattrUid | FattrGid)) != 0)
            {
                var now = RootlessForm.Present(full, StatPath(full)!.Value);
                var a = new RootlessForm.Attributes(
                    (set.Valid & FattrUid) != 0 ? set.Uid : now.Uid, (set.Valid & FattrGid) != 0 ? set.Gid : now.Gid,
                    (now.Mode & S_IFMT) | ((set.Valid & FattrMode) != 0 ? set.Mode & 0xfff : now.Mode & 0xfffu), now.RdevMajor, now.RdevMinor);
                e = KeepAttributes(full, a);
                if (e != 0) return e;
            }
            else if ((set.Valid & FattrMode) != 0 && FchmodAt(AT_FDCWD, full, set.Mode & 0xfff, 0) != 0) return LastErrno;
            if (!_rootless && (set.Valid & (FattrUid | FattrGid)) != 0)
            {
                int uid = (set.Valid & FattrUid) != 0 ? (int)set.Uid : -1, gid = (set.Valid & FattrGid) != 0 ? (int)set.Gid : -1;
                if (FchownAt(AT_FDCWD, full, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) return LastErrno;
            }
            if ((set.Valid & FattrSize) != 0 && Truncate(full, (long)set.Size) != 0) return LastErrno;
            if ((set.Valid & (FattrAtime | FattrMtime | FattrAtimeNow | FattrMtimeNow)) != 0)
            {
                if (UtimensAt(AT_FDCWD, full, Times(set), AT_SYMLINK_NOFOLLOW) != 0) return LastErrno;
            }
            if ((set.Valid & FattrKillSuidgid) != 0 && KillSuidgid(full) is var k and not 0) return k;
            var st = StatPath(full)!.Value;
            attr = AttrReply(n!, full, st); // UpperCopy found it
            OtherNamesChanged(n, st);
            return 0;
        }
    }

    /// <summary>utimensat's two times from a setattr request: now, a time given, or left alone.</summary>
    private static Timespec[] Times(in SetattrIn set) =>
    [
        (set.Valid & FattrAtimeNow) != 0 ? new Timespec { Nanoseconds = UTIME_NOW }
            : (set.Valid & FattrAtime) != 0 ? new Timespec { Seconds = (long)set.Atime, Nanoseconds = set.AtimeNsec }
            : new Timespec { Nanoseconds = UTIME_OMIT },
        (set.Valid & FattrMtimeNow) != 0 ? new Timespec { Nanoseconds = UTIME_NOW }
            : (set.Valid & FattrMtime) != 0 ? new Timespec { Seconds = (long)set.Mtime, Nanoseconds = set.MtimeNsec }
            : new Timespec { Nanoseconds = UTIME_OMIT },
    ];

    /// <summary>
    /// A node with no name left (unlinked while open, as pjdfstest's ftruncate and fchmod cases do): the change goes
    /// to its open file. Through /proc's link to it, as fchmod and futimens go: their *at forms cannot name an fd alone.
    /// </summary>
    private int SetAttr(ulong node, OpenFile file, in SetattrIn set, out AttrOut attr)
    {
        attr = default;
        var self = $"/proc/self/fd/{file.Fd}";
        if ((set.Valid & FattrMode) != 0 && FchmodAt(AT_FDCWD, self, set.Mode & 0xfff, 0) != 0) return LastErrno;
        if ((set.Valid & (FattrUid | FattrGid)) != 0
            && FchownAt(file.Fd, "", (set.Valid & FattrUid) != 0 ? (int)set.Uid : -1, (set.Valid & FattrGid) != 0 ? (int)set.Gid : -1, AT_EMPTY_PATH) != 0)
            return LastErrno;
        if ((set.Valid & FattrSize) != 0 && Ftruncate(file.Fd, (long)set.Size) != 0) return LastErrno;
        if ((set.Valid & (FattrAtime | FattrMtime | FattrAtimeNow | FattrMtimeNow)) != 0 && UtimensAt(AT_FDCWD, self, Times(set), 0) != 0) return LastErrno;
        var (s, ns) = FuseSession.Timeout;
        attr = new AttrOut { AttrValid = s, AttrValidNsec = ns, Attr = AttrOf(node, StatFd(file.Fd)) };
        return 0;
    }

    /// <summary>
    /// What a write, truncate or chown by an unprivileged caller does to a file (the kernel decides when): set-user-ID
    /// goes, set-group-ID goes if the group may execute, and so do file capabilities. Caller holds the lock.
    /// </summary>
    private int KillSuidgid(string full)
    {
        if (StatPath(full) is not { } st || st.IsDirectory) return 0;
        var shown = Shown(full, st);
        uint mode = shown.Mode & 0xfffu;
        uint kept = mode & ~S_ISUID & ((mode & 0x8) != 0 ? ~S_ISGID : ~0u);
        if (kept != mode)
        {
            if (_rootless)
            {
                int e = KeepAttributes(full, new RootlessForm.Attributes(shown.Uid, shown.Gid, (shown.Mode & S_IFMT) | kept, shown.RdevMajor, shown.RdevMinor));
                if (e != 0) return e;
            }
            else if (FchmodAt(AT_FDCWD, full, kept, 0) != 0) return LastErrno;
        }
        return Lremovexattr(full, CapabilityXattr) == 0 || LastErrno is Errno.ENODATA or Errno.EOPNOTSUPP ? 0 : LastErrno;
    }

    private string CapabilityXattr => _rootless ? RootlessForm.StoredName("security.capability") : "security.capability";

    /// <summary>Whether a file has set-ID bits or capabilities, which a write by an unprivileged caller drops.</summary>
    private unsafe bool HasPrivileges(string full, in Statx st) =>
        (Shown(full, st).Mode & (S_ISUID | S_ISGID)) != 0 || Lgetxattr(full, CapabilityXattr, null, 0) >= 0;

    // ---------- xattrs: overlay's own (trusted.overlay.*; the rootless form's user.* markers) are bookkeeping, never shown ----------

    private bool IsPrivate(string name) => OverlayFormat.IsPrivateXattr(name, _userMarkers, _rootless);

    private string Stored(string name) => _rootless ? RootlessForm.StoredName(name) : name;

    private string? Presented(string stored) => _rootless ? RootlessForm.PresentedName(stored) : IsPrivate(stored) ? null : stored;

    public unsafe int GetXattr(ulong node, string name, Span<byte> buffer, out int size)
    {
        size = 0;
        lock (_lock)
        {
            if (NodeOf(node) is not { } n || _stack.Resolve(n.Path) is not { } found) return Errno.ENOENT;
            if (IsPrivate(name)) return Errno.ENODATA;
            fixed (byte* p = buffer)
            {
                nint r = Lgetxattr(found.Full, Stored(name), buffer.IsEmpty ? null : p, (nuint)buffer.Length);
                if (r < 0) return LastErrno;
                size = (int)r;
            }
            return 0;
        }
    }

    public int ListXattr(ulong node, Span<byte> buffer, out int size)
    {
        size = 0;
        Dictionary<string, byte[]> stored;
        lock (_lock)
        {
            if (NodeOf(node) is not { } n || _stack.Resolve(n.Path) is not { } found) return Errno.ENOENT;
            stored = ListXattrs(found.Full);
        }
        var names = new List<byte>();
        foreach (var name in stored.Keys.Select(Presented).OfType<string>())
        {
            names.AddRange(Encoding.UTF8.GetBytes(name));
            names.Add(0);
        }
        size = names.Count;
        if (!buffer.IsEmpty)
        {
            if (names.Count > buffer.Length) return Errno.ERANGE;
            names.ToArray().CopyTo(buffer);
        }
        return 0;
    }

    public unsafe int SetXattr(ulong node, string name, ReadOnlySpan<byte> value, int flags)
    {
        if (IsPrivate(name)) return Errno.EPERM;
        lock (_lock)
        {
            int e = UpperCopy(node, out var full);
            if (e != 0) return e;
            fixed (byte* p = value)
                return Lsetxattr(full, Stored(name), p, (nuint)value.Length, flags) == 0 ? 0 : LastErrno;
        }
    }

    public int RemoveXattr(ulong node, string name)
    {
        if (IsPrivate(name)) return Errno.EPERM;
        lock (_lock)
        {
            int e = UpperCopy(node, out var full);
            return e != 0 ? e : Lremovexattr(full, Stored(name)) == 0 ? 0 : LastErrno;
        }
    }
}
