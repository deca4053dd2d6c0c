using System.Runtime.InteropServices;

namespace Strata.Fuse;

/// <summary>
/// The FUSE kernel protocol (include/uapi/linux/fuse.h, 7.40): opcodes, flags and the fixed-layout structs read
/// from and written to /dev/fuse. Layouts are checked against the header's sizes at startup (<see cref="Check"/>).
/// </summary>
internal static class FuseProtocol
{
    public const uint KernelVersion = 7, KernelMinorVersion = 40;
    public const ulong RootId = 1;

    public enum Opcode : uint
    {
        Lookup = 1, Forget = 2, Getattr = 3, Setattr = 4, Readlink = 5, Symlink = 6, Mknod = 8, Mkdir = 9,
        Unlink = 10, Rmdir = 11, Rename = 12, Link = 13, Open = 14, Read = 15, Write = 16, Statfs = 17,
        Release = 18, Fsync = 20, Setxattr = 21, Getxattr = 22, Listxattr = 23, Removexattr = 24, Flush = 25,
        Init = 26, Opendir = 27, Readdir = 28, Releasedir = 29, Fsyncdir = 30, Access = 34, Create = 35,
        Interrupt = 36, Destroy = 38, BatchForget = 42, Fallocate = 43, Readdirplus = 44, Rename2 = 45, Lseek = 46,
    }

    // fuse_init flags
    public const uint AsyncRead = 1 << 0, AtomicOTrunc = 1 << 3, BigWrites = 1 << 5, DontMask = 1 << 6,
        AutoInvalData = 1 << 12, DoReaddirplus = 1 << 13, ReaddirplusAuto = 1 << 14, AsyncDio = 1 << 15,
        ParallelDirops = 1 << 18, HandleKillpriv = 1 << 19, MaxPages = 1 << 22, CacheSymlinks = 1 << 23,
        HandleKillprivV2 = 1 << 28, InitExt = 1 << 30;

    // fuse_init flags2 (the flags' upper 32 bits; read only when InitExt is set)
    public const uint DirectIoAllowMmap = 1 << (36 - 32), Passthrough = 1 << (37 - 32);

    // setattr valid bits
    public const uint FattrMode = 1 << 0, FattrUid = 1 << 1, FattrGid = 1 << 2, FattrSize = 1 << 3, FattrAtime = 1 << 4,
        FattrMtime = 1 << 5, FattrFh = 1 << 6, FattrAtimeNow = 1 << 7, FattrMtimeNow = 1 << 8, FattrCtime = 1 << 10,
        FattrKillSuidgid = 1 << 11;

    // With HandleKillprivV2 the kernel says when a write or a truncating open must drop set-user/group-ID bits.
    public const uint WriteKillSuidgid = 1 << 2, OpenKillSuidgid = 1 << 0;

    // getattr_flags: the request names an open file (fstat)
    public const uint GetattrFh = 1 << 0;

    // open reply flags
    public const uint FopenDirectIo = 1 << 0, FopenKeepCache = 1 << 1, FopenCacheDir = 1 << 3, FopenPassthrough = 1 << 7;

    [StructLayout(LayoutKind.Sequential)]
    public struct InHeader
    {
        public uint Len;
        public Opcode Opcode;
        public ulong Unique;
        public ulong NodeId;
        public uint Uid, Gid, Pid;
        public ushort TotalExtLen, Padding;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct OutHeader
    {
        public uint Len;
        public int Error;
        public ulong Unique;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Attr
    {
        public ulong Ino, Size, Blocks, Atime, Mtime, Ctime;
        public uint AtimeNsec, MtimeNsec, CtimeNsec, Mode, Nlink, Uid, Gid, Rdev, BlkSize, Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct EntryOut
    {
        public ulong NodeId, Generation, EntryValid, AttrValid;
        public uint EntryValidNsec, AttrValidNsec;
        public Attr Attr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct AttrOut
    {
        public ulong AttrValid;
        public uint AttrValidNsec, Dummy;
        public Attr Attr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct InitIn
    {
        public uint Major, Minor, MaxReadahead, Flags, Flags2;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct InitOut
    {
        public uint Major, Minor, MaxReadahead, Flags;
        public ushort MaxBackground, CongestionThreshold;
        public uint MaxWrite, TimeGran;
        public ushort MaxPagesCount, MapAlignment;
        public uint Flags2, MaxStackDepth;
        public fixed uint Unused[6];
    }

    [StructLayout(LayoutKind.Sequential)] public struct ForgetIn { public ulong Nlookup; }
    [StructLayout(LayoutKind.Sequential)] public struct ForgetOne { public ulong NodeId, Nlookup; }
    [StructLayout(LayoutKind.Sequential)] public struct BatchForgetIn { public uint Count, Dummy; }
    [StructLayout(LayoutKind.Sequential)] public struct GetattrIn { public uint GetattrFlags, Dummy; public ulong Fh; }
    [StructLayout(LayoutKind.Sequential)] public struct MknodIn { public uint Mode, Rdev, Umask, Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct MkdirIn { public uint Mode, Umask; }
    [StructLayout(LayoutKind.Sequential)] public struct RenameIn { public ulong NewDir; }
    [StructLayout(LayoutKind.Sequential)] public struct Rename2In { public ulong NewDir; public uint Flags, Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct LinkIn { public ulong OldNodeId; }

    [StructLayout(LayoutKind.Sequential)]
    public struct SetattrIn
    {
        public uint Valid, Padding;
        public ulong Fh, Size, LockOwner, Atime, Mtime, Ctime;
        public uint AtimeNsec, MtimeNsec, CtimeNsec, Mode, Unused4, Uid, Gid, Unused5;
    }

    [StructLayout(LayoutKind.Sequential)] public struct OpenIn { public uint Flags, OpenFlags; }
    [StructLayout(LayoutKind.Sequential)] public struct CreateIn { public uint Flags, Mode, Umask, OpenFlags; }
    [StructLayout(LayoutKind.Sequential)] public struct OpenOut { public ulong Fh; public uint OpenFlags; public int BackingId; }
    [StructLayout(LayoutKind.Sequential)] public struct BackingMap { public int Fd; public uint Flags; public ulong Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct ReleaseIn { public ulong Fh; public uint Flags, ReleaseFlags; public ulong LockOwner; }
    [StructLayout(LayoutKind.Sequential)] public struct ReadIn { public ulong Fh, Offset; public uint Size, ReadFlags; public ulong LockOwner; public uint Flags, Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct WriteIn { public ulong Fh, Offset; public uint Size, WriteFlags; public ulong LockOwner; public uint Flags, Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct WriteOut { public uint Size, Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct FsyncIn { public ulong Fh; public uint FsyncFlags, Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct SetxattrIn { public uint Size, Flags; }
    [StructLayout(LayoutKind.Sequential)] public struct GetxattrIn { public uint Size, Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct GetxattrOut { public uint Size, Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct AccessIn { public uint Mask, Padding; }
    [StructLayout(LayoutKind.Sequential)] public struct FallocateIn { public ulong Fh, Offset, Length; public uint Mode, Padding; }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct StatfsOut
    {
        public ulong Blocks, Bfree, Bavail, Files, Ffree;
        public uint Bsize, NameLen, Frsize, Padding;
        public fixed uint Spare[6];
    }

    // notify codes, sent in the error field of an out header with unique 0
    public const int NotifyInvalInode = 2;

    [StructLayout(LayoutKind.Sequential)] public struct NotifyInvalInodeOut { public ulong Ino; public long Off, Len; }

    [StructLayout(LayoutKind.Sequential)] public struct Dirent { public ulong Ino, Off; public uint NameLen, Type; }

    /// <summary>The struct sizes of fuse.h 7.40; a layout mistake here would corrupt every reply.</summary>
    public static unsafe void Check()
    {
        Span<(int Actual, int Expected, string Name)> sizes =
        [
            (sizeof(InHeader), 40, "fuse_in_header"), (sizeof(OutHeader), 16, "fuse_out_header"), (sizeof(Attr), 88, "fuse_attr"),
            (sizeof(EntryOut), 128, "fuse_entry_out"), (sizeof(AttrOut), 104, "fuse_attr_out"), (sizeof(InitOut), 64, "fuse_init_out"),
            (sizeof(SetattrIn), 88, "fuse_setattr_in"), (sizeof(ReadIn), 40, "fuse_read_in"), (sizeof(WriteIn), 40, "fuse_write_in"),
            (sizeof(StatfsOut), 80, "fuse_statfs_out"), (sizeof(Dirent), 24, "fuse_dirent"), (sizeof(ReleaseIn), 24, "fuse_release_in"),
            (sizeof(OpenOut), 16, "fuse_open_out"), (sizeof(BackingMap), 16, "fuse_backing_map"),
            (sizeof(NotifyInvalInodeOut), 24, "fuse_notify_inval_inode_out"),
        ];
        foreach (var (actual, expected, name) in sizes)
            if (actual != expected) throw new InvalidOperationException($"FUSE protocol: {name} is {actual} bytes, expected {expected}");
    }
}
