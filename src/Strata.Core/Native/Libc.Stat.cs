using System.Runtime.InteropServices;

namespace Strata.Native;

/// <summary>statx(2): one layout on every architecture, nanosecond times, device numbers.</summary>
internal static partial class Libc
{
    public const uint STATX_BASIC_STATS = 0x7ff;

    [StructLayout(LayoutKind.Sequential)]
    public struct StatxTimestamp
    {
        public long Seconds;
        public uint Nanoseconds;
        private readonly int _reserved;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct Statx
    {
        public uint Mask;
        public uint BlockSize;
        public ulong Attributes;
        public uint Nlink;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
        private readonly ushort _pad1;
        public ulong Ino;
        public ulong Size;
        public ulong Blocks;
        public ulong AttributesMask;
        public StatxTimestamp Atime;
        public StatxTimestamp Btime;
        public StatxTimestamp Ctime;
        public StatxTimestamp Mtime;
        public uint RdevMajor;
        public uint RdevMinor;
        public uint DevMajor;
        public uint DevMinor;
        private fixed ulong _spare[14];

        public readonly uint Type => Mode & S_IFMT;
        public readonly bool IsDirectory => Type == S_IFDIR;
        public readonly bool IsSymlink => Type == S_IFLNK;
        public readonly bool IsRegular => Type == S_IFREG;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxRaw(int dirfd, string path, int flags, uint mask, out Statx result);

    /// <summary>fstat of an fd (also an O_PATH one).</summary>
    public static Statx StatFd(int fd)
    {
        if (StatxRaw(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, out var st) != 0)
            throw new ErrnoException(LastErrno, "statx", $"fd {fd}");
        return st;
    }

    /// <summary>stat (links followed); false when the path does not exist.</summary>
    public static bool TryStat(string path, out Statx st)
    {
        if (StatxRaw(AT_FDCWD, path, 0, STATX_BASIC_STATS, out st) == 0) return true;
        int errno = LastErrno;
        if (errno is Errno.ENOENT or Errno.ENOTDIR) return false;
        throw new ErrnoException(errno, "statx", path);
    }

    /// <summary>lstat relative to a directory fd; false when the path does not exist.</summary>
    public static bool TryLstatAt(int dirfd, string path, out Statx st)
    {
        if (StatxRaw(dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, out st) == 0) return true;
        int errno = LastErrno;
        if (errno is Errno.ENOENT or Errno.ENOTDIR) return false;
        throw new ErrnoException(errno, "statx", path);
    }
}
