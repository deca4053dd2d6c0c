using System.Runtime.InteropServices;

namespace Strata.Native;

/// <summary>Raw fd I/O and the file operations a FUSE file system forwards to its layers (errno-returning).</summary>
internal static unsafe partial class Libc
{
    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "pread64", SetLastError = true)]
    public static partial nint Pread(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwrite64", SetLastError = true)]
    public static partial nint Pwrite(int fd, byte* buffer, nuint count, long offset);

    // ioctls on /dev/fuse (_IOW(229, 1, fuse_backing_map) and _IOW(229, 2, uint32)): register a backing file for
    // passthrough, returning its ID, and drop one. x86-64 and arm64 share the generic _IOC encoding.
    public const nuint FUSE_DEV_IOC_BACKING_OPEN = 0x4010E501, FUSE_DEV_IOC_BACKING_CLOSE = 0x4004E502;

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int Fdatasync(int fd);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RenameAt2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    [LibraryImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    public static partial nint CopyFileRange(int fdIn, long* offIn, int fdOut, long* offOut, nuint len, uint flags);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint Lgetxattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint Llistxattr(string path, byte* list, nuint size);

    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "lremovexattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lremovexattr(string path, string name);

    [StructLayout(LayoutKind.Sequential)]
    public struct Statvfs
    {
        public ulong Bsize, Frsize, Blocks, Bfree, Bavail, Files, Ffree, Favail, Fsid, Flag, Namemax;
        private fixed int _spare[6];
    }

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int StatVfs(string path, out Statvfs buf);

    public const int W_OK = 2, AT_EACCESS = 0x200;
    public const ulong ST_RDONLY = 1;

    /// <summary>Whether this process may access a path, by its effective IDs (AT_EACCESS).</summary>
    [LibraryImport("libc", EntryPoint = "faccessat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FAccessAt(int dirfd, string path, int mode, int flags);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lchown(string path, int uid, int gid);

    [LibraryImport("libc", EntryPoint = "truncate", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Truncate(string path, long length);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int oldfd, int newfd);

    [LibraryImport("libc", EntryPoint = "setsid", SetLastError = true)]
    public static partial int Setsid();
}
