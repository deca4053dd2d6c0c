using Strata.Native;

namespace Strata.Tests.Archive.CrossCheck;

/// <summary>
/// A second, independently written applier test suite (from the other implementation this project weighed)
/// runs against Strata's applier; this adapts the few libc helpers it used to Strata's own.
/// </summary>
internal readonly record struct XFileStatus(int Mode, int Uid, int Gid, long Size, long Blocks, uint RdevMajor, uint RdevMinor,
    ulong Inode, uint Nlink, long MTimeSeconds, int MTimeNanoseconds)
{
    public int Type => Mode & (int)Libc.S_IFMT;
    public int Permissions => Mode & 0xFFF;
    public bool IsDirectory => Type == (int)Libc.S_IFDIR;
    public bool IsSymlink => Type == (int)Libc.S_IFLNK;
}

internal static class XLibc
{
    public const int AT_FDCWD = Libc.AT_FDCWD;
    public const int S_IFCHR = (int)Libc.S_IFCHR, S_IFBLK = (int)Libc.S_IFBLK, S_IFIFO = (int)Libc.S_IFIFO, S_IFDIR = (int)Libc.S_IFDIR, S_IFLNK = (int)Libc.S_IFLNK, S_IFREG = (int)Libc.S_IFREG;

    public static uint GetEuid() => Libc.GetEuid();

    public static XFileStatus LStatAt(int dirfd, string path) =>
        TryLStatAt(dirfd, path, out var st) == 0 ? st : throw new FileNotFoundException(path);

    public static int TryLStatAt(int dirfd, string path, out XFileStatus status)
    {
        if (!Libc.TryLstatAt(dirfd, path, out var s)) { status = default; return -1; }
        status = new XFileStatus(s.Mode, (int)s.Uid, (int)s.Gid, (long)s.Size, (long)s.Blocks, s.RdevMajor, s.RdevMinor, s.Ino, s.Nlink, s.Mtime.Seconds, (int)s.Mtime.Nanoseconds);
        return 0;
    }

    public static int TryLinkAt(int olddirfd, string oldpath, int newdirfd, string newpath) => Libc.LinkAt(olddirfd, oldpath, newdirfd, newpath, 0);

    public static byte[]? LGetXattr(string path, string name) => Libc.ListXattrs(path).GetValueOrDefault(name);

    public static List<string> LListXattr(string path) => [.. Libc.ListXattrs(path).Keys];
}
