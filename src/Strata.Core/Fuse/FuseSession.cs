using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Strata.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Native;
using static Strata.Fuse.FuseProtocol;

namespace Strata.Fuse;

/// <summary>
/// A FUSE mount served in this process, speaking the kernel protocol on /dev/fuse directly: mount(2) with the
/// device fd, INIT negotiation (1 MiB writes, readdirplus, parallel dirops), then worker threads that read
/// requests, call the file system and write replies. Unmounting (ours or anyone's) ends the workers.
/// </summary>
internal sealed unsafe class FuseSession : IDisposable, IBackingFiles, IKernelCache
{
    public const int MaxWrite = 1 << 20;
    private const int BufferSize = MaxWrite + 4096;
    // Lower layers cannot change under a mount, and every change to the upper comes through it: the kernel keeps what
    // it was told for a day (fuse-overlayfs: 1e9 s), and what the union changes on its own it is told at once
    // (IKernelCache). Changes made in the upper directory behind the mount's back are unsupported, as on overlayfs.
    private static readonly TimeSpan CacheTimeout = TimeSpan.FromDays(1);

    private readonly IFuseFileSystem _fs;
    private readonly int _fd;
    private readonly List<Thread> _workers = [];
    private volatile bool _stopping;
    private bool _passthrough;
    private readonly long[] _requests = new long[64];
    private int _disposed;
    private int _autoUnmountSocket = -1;
    private uint? _connection;
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);
    private readonly ILogger _log;
    private readonly bool _logRequestCounts;

    private FuseSession(IFuseFileSystem fs, int fd, string mountPoint, ILogger log, bool logRequestCounts)
    {
        _fs = fs;
        _fd = fd;
        MountPoint = mountPoint;
        _log = log;
        _logRequestCounts = logRequestCounts;
    }

    public string MountPoint { get; }

    /// <summary>How many requests of a kind the kernel sent (a test sees passthrough keep reads away from here).</summary>
    public long Requests(Opcode opcode) => (uint)opcode < _requests.Length ? Interlocked.Read(ref _requests[(int)opcode]) : 0;

    /// <summary>Cache lifetime the kernel is told for entries and attributes (seconds part, nanoseconds part).</summary>
    public static (ulong Seconds, uint Nanoseconds) Timeout => ((ulong)CacheTimeout.TotalSeconds, (uint)(CacheTimeout.TotalMilliseconds % 1000 * 1_000_000));

    /// <summary>Mounts <paramref name="fs"/> at <paramref name="mountPoint"/> (see <see cref="FuseMount"/>) and starts serving it.</summary>
    /// <param name="kernelChecksPermissions">default_permissions: off for a rootless view (see <see cref="FuseMount.Open"/>).</param>
    /// <param name="passthrough">Ask the kernel for FUSE passthrough (given to root only).</param>
    /// <param name="log">Where failed requests and lost backing files are told (one line each); null: nowhere.</param>
    /// <param name="logRequestCounts">At the end, log how many requests of each kind came.</param>
    public static FuseSession Mount(IFuseFileSystem fs, string mountPoint, string source, int threads = 2, bool kernelChecksPermissions = true,
        bool passthrough = true, ILogger? log = null, bool logRequestCounts = false)
    {
        FuseProtocol.Check();
        var (fd, autoUnmount) = FuseMount.Open(mountPoint, source, kernelChecksPermissions);
        var session = new FuseSession(fs, fd, mountPoint, log ?? NullLogger.Instance, logRequestCounts) { _autoUnmountSocket = autoUnmount, _passthrough = passthrough };
        session.Start(threads);
        // The connection's name under /sys/fs/fuse/connections: the kernel's dev_t of the mount (served by the workers).
        if (Libc.TryLstatAt(Libc.AT_FDCWD, mountPoint, out var st)) session._connection = (st.DevMajor << 20) | st.DevMinor;
        return session;
    }

    private void Start(int threads)
    {
        for (int i = 0; i < Math.Max(1, threads); i++)
        {
            var t = new Thread(Work) { IsBackground = true, Name = $"fuse-{i}" };
            _workers.Add(t);
            t.Start();
        }
    }

    /// <summary>Blocks until the file system is unmounted.</summary>
    public void Wait()
    {
        foreach (var t in _workers) t.Join();
    }

    private void Work()
    {
        var input = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        var output = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        fixed (byte* inPtr = input)
        {
            while (!_stopping)
            {
                nint n = Libc.Read(_fd, inPtr, (nuint)input.Length);
                if (n < 0)
                {
                    int errno = Libc.LastErrno;
                    if (errno is Errno.EINTR or Errno.EAGAIN or Errno.ENOENT) continue; // ENOENT: the request was interrupted
                    return; // ENODEV: unmounted
                }
                if (n < Unsafe.SizeOf<InHeader>()) continue;
                var request = new FuseRequest(input.AsSpan(0, (int)n));
                if ((uint)request.Header.Opcode < _requests.Length) Interlocked.Increment(ref _requests[(int)request.Header.Opcode]);
                try
                {
                    Dispatch(ref request, output);
                }
                catch (ErrnoException e) when (_fs.Problem() is null)
                {
                    // A layer's own answer (a name over NAME_MAX, a full disk): the caller gets that errno, as on overlayfs.
                    Reply(request.Header.Unique, e.Number, output, 0);
                }
                catch (Exception e)
                {
                    // A bug or a vanished layer: the caller gets EIO, never a hang.
                    Log($"{request.Header.Opcode} on node {request.NodeId}: {_fs.Problem() ?? e.Message}");
                    Reply(request.Header.Unique, Errno.EIO, output, 0);
                }
            }
        }
    }

    private void Dispatch(ref FuseRequest r, byte[] output)
    {
        var h = r.Header;
        var caller = new FuseCaller(h.Uid, h.Gid, h.Pid);
        var body = output.AsSpan(Unsafe.SizeOf<OutHeader>());
        int error;
        int size = 0;
        switch (h.Opcode)
        {
            case Opcode.Init:
                error = Init(ref r, body, out size);
                break;
            case Opcode.Destroy:
                error = 0;
                break;
            case Opcode.Forget:
                _fs.Forget(h.NodeId, r.Read<ForgetIn>().Nlookup);
                return; // no reply
            case Opcode.BatchForget:
                {
                    var count = r.Read<BatchForgetIn>().Count;
                    for (uint i = 0; i < count; i++)
                    {
                        var one = r.Read<ForgetOne>();
                        _fs.Forget(one.NodeId, one.Nlookup);
                    }
                    return;
                }
            case Opcode.Interrupt:
                return; // every operation here is short: let it finish
            case Opcode.Lookup:
                error = _fs.Lookup(h.NodeId, r.ReadName(), out var entry);
                size = Put(body, entry, error);
                break;
            case Opcode.Getattr:
                {
                    var m = r.Read<GetattrIn>();
                    error = _fs.GetAttr(h.NodeId, (m.GetattrFlags & GetattrFh) != 0 ? m.Fh : 0, out var attr);
                    size = Put(body, attr, error);
                    break;
                }
            case Opcode.Setattr:
                {
                    error = _fs.SetAttr(h.NodeId, r.Read<SetattrIn>(), caller, out var attr);
                    size = Put(body, attr, error);
                    break;
                }
            case Opcode.Readlink:
                error = _fs.ReadLink(h.NodeId, out var target);
                if (error == 0) { target.CopyTo(body); size = target.Length; }
                break;
            case Opcode.Symlink:
                {
                    var name = r.ReadName();
                    error = _fs.Symlink(h.NodeId, name, r.ReadName(), caller, out entry);
                    size = Put(body, entry, error);
                    break;
                }
            case Opcode.Mknod:
                {
                    var m = r.Read<MknodIn>();
                    error = _fs.Mknod(h.NodeId, r.ReadName(), m.Mode & ~m.Umask, m.Rdev, caller, out entry);
                    size = Put(body, entry, error);
                    break;
                }
            case Opcode.Mkdir:
                {
                    var m = r.Read<MkdirIn>();
                    error = _fs.Mkdir(h.NodeId, r.ReadName(), m.Mode & ~m.Umask, caller, out entry);
                    size = Put(body, entry, error);
                    break;
                }
            case Opcode.Unlink:
                error = _fs.Unlink(h.NodeId, r.ReadName());
                break;
            case Opcode.Rmdir:
                error = _fs.Rmdir(h.NodeId, r.ReadName());
                break;
            case Opcode.Rename:
                {
                    var m = r.Read<RenameIn>();
                    var from = r.ReadName();
                    error = _fs.Rename(h.NodeId, from, m.NewDir, r.ReadName(), 0);
                    break;
                }
            case Opcode.Rename2:
                {
                    var m = r.Read<Rename2In>();
                    var from = r.ReadName();
                    error = _fs.Rename(h.NodeId, from, m.NewDir, r.ReadName(), m.Flags);
                    break;
                }
            case Opcode.Link:
                {
                    var m = r.Read<LinkIn>();
                    error = _fs.Link(m.OldNodeId, h.NodeId, r.ReadName(), out entry);
                    size = Put(body, entry, error);
                    break;
                }
            case Opcode.Open:
                {
                    var m = r.Read<OpenIn>();
                    error = _fs.Open(h.NodeId, m.Flags, (m.OpenFlags & OpenKillSuidgid) != 0, out var open);
                    size = Put(body, open, error);
                    break;
                }
            case Opcode.Create:
                {
                    var m = r.Read<CreateIn>();
                    error = _fs.Create(h.NodeId, r.ReadName(), m.Flags, m.Mode & ~m.Umask, caller, out entry, out var open);
                    if (error == 0)
                    {
                        MemoryMarshal.Write(body, in entry);
                        MemoryMarshal.Write(body[Unsafe.SizeOf<EntryOut>()..], in open);
                        size = Unsafe.SizeOf<EntryOut>() + Unsafe.SizeOf<OpenOut>();
                    }
                    break;
                }
            case Opcode.Read:
                {
                    var m = r.Read<ReadIn>();
                    error = _fs.Read(m.Fh, (long)m.Offset, body[..(int)Math.Min(m.Size, (uint)body.Length)], out size);
                    break;
                }
            case Opcode.Write:
                {
                    var m = r.Read<WriteIn>();
                    error = _fs.Write(m.Fh, (long)m.Offset, r.Rest((int)m.Size), (m.WriteFlags & WriteKillSuidgid) != 0, out var written);
                    size = Put(body, new WriteOut { Size = (uint)written }, error);
                    break;
                }
            case Opcode.Flush:
                error = Errno.ENOSYS; // nothing to do at close: the kernel stops sending FLUSH (one request less per file)
                break;
            case Opcode.Fsync:
                {
                    var m = r.Read<FsyncIn>();
                    error = _fs.Fsync(m.Fh, (m.FsyncFlags & 1) != 0);
                    break;
                }
            case Opcode.Fsyncdir:
                error = 0;
                break;
            case Opcode.Release:
                _fs.Release(r.Read<ReleaseIn>().Fh);
                error = 0;
                break;
            case Opcode.Statfs:
                error = _fs.Statfs(h.NodeId, out var st);
                size = Put(body, st, error);
                break;
            case Opcode.Setxattr:
                {
                    var m = r.Read<SetxattrIn>();
                    var name = r.ReadName();
                    error = _fs.SetXattr(h.NodeId, name, r.Rest((int)m.Size), (int)m.Flags);
                    break;
                }
            case Opcode.Getxattr:
                {
                    var m = r.Read<GetxattrIn>();
                    error = XattrReply(_fs.GetXattr(h.NodeId, r.ReadName(), body[..(int)Math.Min(m.Size, (uint)body.Length)], out var n), m.Size, n, body, out size);
                    break;
                }
            case Opcode.Listxattr:
                {
                    var m = r.Read<GetxattrIn>();
                    error = XattrReply(_fs.ListXattr(h.NodeId, body[..(int)Math.Min(m.Size, (uint)body.Length)], out var n), m.Size, n, body, out size);
                    break;
                }
            case Opcode.Removexattr:
                error = _fs.RemoveXattr(h.NodeId, r.ReadName());
                break;
            case Opcode.Opendir:
                {
                    error = _fs.OpenDir(h.NodeId, out var fh);
                    // Listings cached by the kernel, kept between opens (it drops them when it changes the directory).
                    size = Put(body, new OpenOut { Fh = fh, OpenFlags = FopenCacheDir | FopenKeepCache }, error);
                    break;
                }
            case Opcode.Readdir:
            case Opcode.Readdirplus:
                {
                    var m = r.Read<ReadIn>();
                    var dirents = new DirentBuffer(body[..(int)Math.Min(m.Size, (uint)body.Length)]);
                    error = _fs.ReadDir(h.NodeId, m.Fh, (long)m.Offset, h.Opcode == Opcode.Readdirplus, ref dirents);
                    size = dirents.Length;
                    break;
                }
            case Opcode.Releasedir:
                _fs.ReleaseDir(r.Read<ReleaseIn>().Fh);
                error = 0;
                break;
            case Opcode.Access:
                error = _fs.Access(h.NodeId, r.Read<AccessIn>().Mask);
                break;
            default:
                error = Errno.ENOSYS;
                break;
        }
        if (error is Errno.ENOENT or Errno.ENOTDIR && _fs.Problem() is { } problem)
        {
            // A missing name may be a missing layer: say so, and do not answer as if the tree were whole.
            Log($"{h.Opcode} on node {h.NodeId}: {problem}");
            error = Errno.EIO;
        }
        Reply(h.Unique, error, output, error == 0 ? size : 0);
    }

#pragma warning disable CA2254 // the daemon's log is lines of text, read by people
    private void Log(string line) => _log.LogWarning(line);
#pragma warning restore CA2254

    /// <summary>A size probe (size 0) is answered with the size; a buffer too small with ERANGE.</summary>
    private static int XattrReply(int error, uint asked, int actual, Span<byte> body, out int size)
    {
        size = 0;
        if (error != 0) return error;
        if (asked == 0)
        {
            size = Put(body, new GetxattrOut { Size = (uint)actual }, 0);
            return 0;
        }
        if (actual > asked) return Errno.ERANGE;
        size = actual;
        return 0;
    }

    private int Init(ref FuseRequest r, Span<byte> body, out int size)
    {
        var init = r.Read<InitIn>();
        if (init.Major != KernelVersion) { size = 0; return Errno.EPROTO; }
        uint wanted = AsyncRead | AtomicOTrunc | BigWrites | DontMask | DoReaddirplus | ReaddirplusAuto | ParallelDirops | MaxPages | CacheSymlinks | AsyncDio | AutoInvalData | InitExt
            // Set-ID bits are dropped here when the kernel says so (FattrKillSuidgid, WriteKillSuidgid,
            // OpenKillSuidgid): it no longer asks for security.capability and the mode before each write and chown.
            | HandleKillprivV2;
        // Passthrough: unmodified and copied-up files alike are read and written by the kernel itself. It takes
        // CAP_SYS_ADMIN; without it every open is served here (with the page cache kept between opens).
        uint wanted2 = DirectIoAllowMmap | (_passthrough && (init.Flags & InitExt) != 0 && FuseMount.RootOfMachine ? Passthrough : 0);
        uint flags2 = (init.Flags & InitExt) != 0 ? init.Flags2 & wanted2 : 0;
        var reply = new InitOut
        {
            Major = KernelVersion,
            Minor = Math.Min(init.Minor, KernelMinorVersion),
            MaxReadahead = init.MaxReadahead,
            Flags = init.Flags & wanted,
            MaxBackground = 64,
            CongestionThreshold = 48,
            MaxWrite = MaxWrite,
            TimeGran = 1,
            MaxPagesCount = MaxWrite / 4096,
            Flags2 = flags2,
            MaxStackDepth = (flags2 & Passthrough) != 0 ? 1u : 0, // backing files on a non-stacked file system
        };
        if ((flags2 & Passthrough) != 0) _fs.Backing = this;
        _fs.Cache = this;
        size = Put(body, reply, 0);
        return 0;
    }

    public int Register(int fd)
    {
        var map = new BackingMap { Fd = fd };
        int id = Libc.Ioctl(_fd, Libc.FUSE_DEV_IOC_BACKING_OPEN, &map);
        if (id > 0) return id;
        int errno = Libc.LastErrno;
        Log($"passthrough off: registering a backing file failed with errno {errno}");
        return -errno;
    }

    public void Unregister(int id)
    {
        uint value = (uint)id;
        if (Libc.Ioctl(_fd, Libc.FUSE_DEV_IOC_BACKING_CLOSE, &value) != 0) Log($"dropping backing file {id}: errno {Libc.LastErrno}");
    }

    /// <summary>
    /// Attributes only (offset -1 keeps the page cache): the kernel takes no inode lock for it, so it is safe while a
    /// request on that node is being served. ENOENT (the kernel holds no such inode) is no failure.
    /// </summary>
    public void InvalidateAttributes(ulong node)
    {
        Span<byte> message = stackalloc byte[Unsafe.SizeOf<OutHeader>() + Unsafe.SizeOf<NotifyInvalInodeOut>()];
        MemoryMarshal.Write(message, new OutHeader { Len = (uint)message.Length, Error = NotifyInvalInode });
        MemoryMarshal.Write(message[Unsafe.SizeOf<OutHeader>()..], new NotifyInvalInodeOut { Ino = node, Off = -1 });
        fixed (byte* p = message)
            if (Libc.Write(_fd, p, (nuint)message.Length) < 0 && Libc.LastErrno is not (Errno.ENOENT or Errno.ENODEV)) Log($"invalidating node {node}: errno {Libc.LastErrno}");
    }

    private static int Put<T>(Span<byte> body, in T value, int error) where T : unmanaged
    {
        if (error != 0) return 0;
        MemoryMarshal.Write(body, in value);
        return Unsafe.SizeOf<T>();
    }

    private void Reply(ulong unique, int error, byte[] output, int size)
    {
        var header = new OutHeader { Len = (uint)(Unsafe.SizeOf<OutHeader>() + size), Error = -error, Unique = unique };
        MemoryMarshal.Write(output, in header);
        fixed (byte* p = output)
        {
            // ENOENT here: the request was interrupted and is gone; nothing to do.
            _ = Libc.Write(_fd, p, header.Len);
        }
    }

    private bool Joined(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        foreach (var t in _workers)
        {
            var left = deadline - DateTime.UtcNow;
            if (left < TimeSpan.Zero || !t.Join(left)) return false;
        }
        return true;
    }

    /// <summary>
    /// Ends the connection (every request fails with ENOTCONN, blocked readers of /dev/fuse return) through fusectl's
    /// abort file: where /sys/fs/fuse/connections has it mounted, else (as root) in a fusectl mount of our own that is
    /// never attached anywhere, so nothing outside this call sees it.
    /// </summary>
    private bool Abort()
    {
        if (_connection is not { } id) return false;
        var name = $"{id}/abort";
        if (WriteOne(Libc.AT_FDCWD, "/sys/fs/fuse/connections/" + name)) return true;
        int fs = Libc.FsOpen("fusectl", Libc.FSOPEN_CLOEXEC);
        if (fs < 0) return false;
        int mnt = Libc.FsConfig(fs, Libc.FSCONFIG_CMD_CREATE, null, null, 0) == 0 ? Libc.FsMount(fs, Libc.FSMOUNT_CLOEXEC, 0) : -1;
        Libc.Close(fs);
        if (mnt < 0) return false;
        bool done = WriteOne(mnt, name);
        Libc.Close(mnt);
        return done;
    }

    private static bool WriteOne(int dirfd, string path)
    {
        int fd = Libc.OpenAt(dirfd, path, Libc.O_WRONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) return false;
        byte one = (byte)'1';
        bool written = Libc.Write(fd, &one, 1) == 1;
        Libc.Close(fd);
        return written;
    }

    /// <summary>
    /// Unmounts (lazily, so busy files do not keep it) and waits for the workers, within a bound: past it the
    /// connection is aborted (and that is logged), so a copy of the mount elsewhere cannot keep this waiting.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping = true;
        if (_autoUnmountSocket >= 0)
        {
            Libc.Close(_autoUnmountSocket); // fusermount3 unmounts (lazily) once our end closes
        }
        else if (Libc.Umount2(MountPoint, Libc.MNT_DETACH) != 0 && Libc.LastErrno != Errno.EINVAL)
        {
            Log($"umount {MountPoint}: errno {Libc.LastErrno}");
        }
        if (!Joined(StopWait))
        {
            // A copy of the mount in another mount namespace (or a file still open) keeps the connection alive after a
            // lazy unmount, and the workers would wait for its requests forever: end it, as fusectl's abort does.
            Log($"{MountPoint}: still in use {StopWait.TotalSeconds:0} s after the unmount (a copy in another mount namespace, or open files): aborting its FUSE connection");
            if (!Abort()) Log($"{MountPoint}: the FUSE connection could not be aborted (is fusectl mounted on /sys/fs/fuse/connections?)");
            if (!Joined(StopWait)) Log($"{MountPoint}: workers still running after the abort");
        }
        Libc.Close(_fd);
        (_fs as IDisposable)?.Dispose();
        if (_logRequestCounts)
            for (int i = 0; i < _requests.Length; i++) if (_requests[i] > 0) Log($"{(Opcode)i}: {_requests[i]}");
    }
}
