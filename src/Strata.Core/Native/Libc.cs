using System.Runtime.InteropServices;

namespace Strata.Native;

/// <summary>
/// The libc calls .NET lacks: *at() operations relative to directory fds, openat2 for resolution inside a
/// root, ownership, devices, nanosecond times and raw xattrs. Callers read errno right after a failure.
/// </summary>
internal static partial class Libc
{
    // The same on x86-64 and arm64; the O_ flags that differ are in Libc.Arch.cs. LibcConstantsTests checks every
    // value here against the machine's C headers.
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3, O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100,
        O_TRUNC = 0x200, O_APPEND = 0x400, O_CLOEXEC = 0x80000, O_PATH = 0x200000;
    public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;
    public const ulong RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04,
        RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;
    public const uint S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000, S_IFCHR = 0x2000,
        S_IFBLK = 0x6000, S_IFIFO = 0x1000, S_IFSOCK = 0xC000, S_ISUID = 0x800, S_ISGID = 0x400;
    public const long UTIME_NOW = (1L << 30) - 1, UTIME_OMIT = (1L << 30) - 2;
    public const uint RENAME_NOREPLACE = 1;

    // 437 on every architecture: syscalls added since 5.1 share one number table.
    private const long SYS_openat2 = 437;

    [StructLayout(LayoutKind.Sequential)]
    public struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref OpenHow how, nuint size);

    /// <summary>
    /// openat2(2): resolve a path with the kernel's own scoping (RESOLVE_IN_ROOT keeps ".." and symlinks inside dirfd).
    /// With RESOLVE_IN_ROOT or RESOLVE_BENEATH the kernel answers EAGAIN when a rename or mount anywhere on the system
    /// raced the walk and it could not vouch for the result; the walk is then simply repeated (a bounded number of
    /// times, as libpathrs does), so a busy machine never fails a layer.
    /// </summary>
    public static int OpenAt2(int dirfd, string path, ulong flags, ulong resolve)
    {
        var how = new OpenHow { Flags = flags, Resolve = resolve };
        for (int attempt = 0; ; attempt++)
        {
            int fd = (int)Syscall(SYS_openat2, dirfd, path, ref how, (nuint)Marshal.SizeOf<OpenHow>());
            if (fd >= 0 || LastErrno != Errno.EAGAIN || attempt == 127) return fd;
        }
    }

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkdirAt(int dirfd, string path, uint mode);

    [LibraryImport("libc", EntryPoint = "mknodat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MknodAt(int dirfd, string path, uint mode, ulong dev);

    [LibraryImport("libc", EntryPoint = "symlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SymlinkAt(string target, int dirfd, string path);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LinkAt(int olddirfd, string oldpath, int newdirfd, string newpath, int flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UnlinkAt(int dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "fchownat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FchownAt(int dirfd, string path, int uid, int gid, int flags);

    [LibraryImport("libc", EntryPoint = "fchmodat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FchmodAt(int dirfd, string path, uint mode, int flags);

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UtimensAt(int dirfd, string path, ReadOnlySpan<Timespec> times, int flags);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint ReadlinkAt(int dirfd, string path, Span<byte> buffer, nuint size);

    public static string ReadLinkAt(int dirfd, string path)
    {
        Span<byte> buffer = stackalloc byte[4096];
        nint n = ReadlinkAt(dirfd, path, buffer, (nuint)buffer.Length);
        if (n < 0) throw new ErrnoException(LastErrno, "readlink", path);
        return System.Text.Encoding.UTF8.GetString(buffer[..(int)n]);
    }

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    /// <summary>Makes a rename or create in a directory durable (the entry, not only the file's data).</summary>
    public static void FsyncDirectory(string path)
    {
        int fd = Check(OpenAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), "open", path);
        try { Check(Fsync(fd), "fsync", path); }
        finally { Close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    public static int LastErrno => Marshal.GetLastPInvokeError();

    public static ulong MakeDev(int major, int minor) =>
        ((ulong)(uint)major & 0xfff) << 8 | ((ulong)(uint)major & ~0xfffUL) << 32 | ((ulong)(uint)minor & 0xff) | ((ulong)(uint)minor & ~0xffUL) << 12;

    /// <summary>Throws an <see cref="ErrnoException"/> for a -1 result.</summary>
    public static int Check(int result, string operation, string path)
    {
        if (result < 0) throw new ErrnoException(LastErrno, operation, path);
        return result;
    }
}
