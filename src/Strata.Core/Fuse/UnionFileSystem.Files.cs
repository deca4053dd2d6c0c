using Strata.Native;
using static Strata.Fuse.FuseProtocol;
using static Strata.Native.Libc;

namespace Strata.Fuse;

internal sealed partial class UnionFileSystem
{
    /// <summary>An open file: the fd of the copy it was opened on (the upper one for any write), and the node whose
    /// backing file it holds open in passthrough mode.</summary>
    private sealed class OpenFile(int fd, Node node, bool backed, bool onLower)
    {
        private volatile int _fd = fd;

        public int Fd => _fd;
        public Node Node { get; } = node;
        public bool Backed { get; } = backed;

        /// <summary>Opened for writing with more names than one: each write tells the kernel the other names changed.</summary>
        public bool LinkedWrites { get; init; }

        /// <summary>Opened on a lower copy; once the node is copied up, reads move to the upper one (as overlayfs's do).</summary>
        public bool OnLower { get; private set; } = onLower;

        /// <summary>The lower fd, kept open until release: a read on another thread may still be using it.</summary>
        public int LowerFd { get; private set; } = -1;

        public void MoveTo(int upperFd)
        {
            LowerFd = _fd;
            _fd = upperFd;
            OnLower = false;
        }

        public void Close()
        {
            Libc.Close(_fd);
            if (LowerFd >= 0) Libc.Close(LowerFd);
        }
    }

    public int Open(ulong node, uint flags, bool killSuidgid, out OpenOut open)
    {
        open = default;
        int f = (int)flags;
        bool writes = (f & O_ACCMODE) != O_RDONLY || (f & O_TRUNC) != 0;
        // All under the lock: a deep path's place in a layer is valid only there (see LayerStack.Full).
        lock (_lock)
        {
            if (NodeOf(node) is not { } known || _stack.Resolve(known.Path) is not { } found) return Errno.ENOENT;
            var n = known;
            bool regular = found.Stat.IsRegular;
            // A write in passthrough would keep set-ID bits and capabilities the kernel wants dropped: such
            // writes come here, where the kernel marks them (WriteKillSuidgid).
            bool linkedWrites = writes && regular && found.Stat.Nlink > 1;
            bool throughDaemon = writes && regular && Backing is not null && (linkedWrites || HasPrivileges(found.Full, found.Stat));
            if (writes && !Writable) return Errno.EROFS;
            var full = found.Full;
            bool onLower = Writable && found.Layer != 0 && !writes;
            if (writes && found.Layer != 0)
            {
                int e = CopyUp(n.Path);
                if (e != 0) return e;
                full = Upper(n.Path);
            }
            int fd = OpenAt(AT_FDCWD, full, (f & ~(O_CREAT | O_EXCL | O_NOCTTY)) | O_CLOEXEC, 0);
            if (fd < 0) return LastErrno;
            int error = killSuidgid && writes ? KillSuidgid(full) : 0;
            if (error == 0) error = Opened(fd, n, full, regular, throughDaemon, onLower, linkedWrites, out open);
            if (error != 0) Close(fd);
            return error;
        }
    }

    /// <summary>
    /// How the kernel is to do a new open's I/O. With passthrough, every open of a node must use the node's one
    /// backing file: the first registers <paramref name="full"/>, later ones share it. An open that cannot (a copy-up
    /// made the upper copy current while the lower one is open in passthrough, or a write that must come through
    /// here) retires the node and answers ESTALE: the kernel looks the name up again, gets a new node for the current
    /// copy and opens that, while the old opens keep theirs. Without passthrough, the page cache is kept between
    /// opens (every change goes through this mount, so it cannot go stale).
    /// </summary>
    /// <param name="onLower">Opened on a lower copy of a writable union: a later copy-up moves its reads (see <see cref="OpenFile"/>).</param>
    /// <param name="linkedWrites">A write open of a file with other names (served here, so that each write can say so).</param>
    private int Opened(int fd, Node node, string full, bool regular, bool throughDaemon, bool onLower, bool linkedWrites, out OpenOut open)
    {
        open = new OpenOut { OpenFlags = regular ? FopenKeepCache : 0 };
        bool backed = false;
        if (regular && Backing is { } backing)
        {
            lock (_lock)
            {
                if (node.BackingOpens > 0)
                {
                    if (throughDaemon || node.BackingFile != full)
                    {
                        Retire(node);
                        return Errno.ESTALE;
                    }
                }
                else if (throughDaemon)
                {
                    open.OpenFlags = FopenDirectIo; // uncached, so that no later passthrough open conflicts with it
                }
                else if (node.BackingFile == full && !full.StartsWith("/proc/", StringComparison.Ordinal))
                {
                    // Registered by an earlier open, kept since its release: no ioctl (a warm read of many files
                    // otherwise pays two per open). Not a deep path: its fd number may name another directory now.
                }
                else if (!_passthroughFailed)
                {
                    DropBacking(node); // the copy registered before was copied up since
                    int id = backing.Register(fd);
                    _passthroughFailed = id <= 0;
                    if (id > 0) (node.BackingId, node.BackingFile) = (id, full);
                }
                if (node.BackingFile is not null && !throughDaemon)
                {
                    node.BackingOpens++;
                    backed = true;
                    open.OpenFlags = FopenPassthrough;
                    open.BackingId = node.BackingId;
                }
            }
        }
        open.Fh = (ulong)Interlocked.Increment(ref _nextHandle);
        _files[open.Fh] = new OpenFile(fd, node, backed, onLower) { LinkedWrites = linkedWrites };
        return 0;
    }

    public unsafe int Read(ulong fh, long offset, Span<byte> buffer, out int count)
    {
        count = 0;
        if (!_files.TryGetValue(fh, out var file)) return Errno.EBADF;
        if (file.OnLower && file.Node.CopiedUp) FollowCopyUp(file);
        fixed (byte* p = buffer)
        {
            while (count < buffer.Length)
            {
                nint n = Pread(file.Fd, p + count, (nuint)(buffer.Length - count), offset + count);
                if (n < 0) { int e = LastErrno; if (e == Errno.EINTR) continue; return e; }
                if (n == 0) break; // a short read tells the kernel where the file ends
                count += (int)n;
            }
        }
        return 0;
    }

    public unsafe int Write(ulong fh, long offset, ReadOnlySpan<byte> data, bool killSuidgid, out int count)
    {
        count = 0;
        if (!_files.TryGetValue(fh, out var file)) return Errno.EBADF;
        if (killSuidgid)
        {
            int e;
            lock (_lock) e = NodeOf(file.Node.Id) is { } n ? KillSuidgid(Upper(n.Path)) : 0;
            if (e != 0) return e;
        }
        fixed (byte* p = data)
        {
            while (count < data.Length)
            {
                nint n = Pwrite(file.Fd, p + count, (nuint)(data.Length - count), offset + count);
                if (n < 0) { int e = LastErrno; if (e == Errno.EINTR) continue; return e; }
                count += (int)n;
            }
        }
        if (file.LinkedWrites)
        {
            var st = StatFd(file.Fd);
            lock (_lock) OtherNamesChanged(file.Node, st);
        }
        return 0;
    }

    public int Fsync(ulong fh, bool dataOnly)
    {
        if (!_files.TryGetValue(fh, out var file)) return Errno.EBADF;
        return (dataOnly ? Fdatasync(file.Fd) : Libc.Fsync(file.Fd)) == 0 ? 0 : LastErrno;
    }

    private void FollowCopyUp(OpenFile file)
    {
        lock (file)
        {
            if (!file.OnLower) return;
            int upper;
            lock (_lock) upper = OpenAt(AT_FDCWD, Upper(file.Node.Path), O_RDONLY | O_CLOEXEC, 0);
            if (upper >= 0) file.MoveTo(upper);
        }
    }

    /// <summary>After the unmount: the kernel sends no RELEASE for what was still open, so those files close here.</summary>
    public void Dispose()
    {
        foreach (var fh in _files.Keys)
        {
            if (_files.TryRemove(fh, out var file)) file.Close();
        }
        lock (_lock) _stack.CloseHeld();
    }

    public void Release(ulong fh)
    {
        if (!_files.TryRemove(fh, out var file)) return;
        file.Close();
        if (!file.Backed) return;
        // The registration stays with the node for its next open, until the kernel forgets the node.
        lock (_lock) file.Node.BackingOpens--;
    }

    /// <summary>Unregisters a node's backing file, kept after its last release. Caller holds the lock.</summary>
    private void DropBacking(Node node)
    {
        if (node.BackingFile is null || node.BackingOpens > 0) return;
        Backing?.Unregister(node.BackingId);
        node.BackingId = 0;
        node.BackingFile = null;
    }

    public int Create(ulong parent, string name, uint flags, uint mode, FuseCaller caller, out EntryOut entry, out OpenOut open)
    {
        entry = default;
        open = default;
        lock (_lock)
        {
            int e = PrepareNew(parent, name, out var path, out var full);
            if (e != 0) return e;
            int fd = OpenAt(AT_FDCWD, full, ((int)flags & ~O_NOCTTY) | O_CREAT | O_CLOEXEC, mode & 0xfff);
            if (fd < 0) return LastErrno;
            e = Own(full, caller, S_IFREG | (mode & 0xfff));
            if (e != 0) { Close(fd); return e; }
            Changed(path);
            var node = Remember(path);
            entry = Entry(node, full, StatPath(full)!.Value);
            e = Opened(fd, node, full, regular: true, throughDaemon: false, onLower: false, linkedWrites: false, out open);
            if (e != 0) Close(fd);
            return e;
        }
    }
}
