using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Strata.Tests.Infrastructure;

/// <summary>lstat-level metadata .NET does not expose: owners, inode, device numbers, nanosecond mtime.</summary>
public readonly record struct FileStat(
    uint Mode, uint Uid, uint Gid, uint Nlink, ulong Ino, uint DevMajor, uint DevMinor, ulong Size,
    long MtimeSec, uint MtimeNsec, uint RdevMajor, uint RdevMinor)
{
    public const uint TypeMask = 0xF000; // S_IFMT
    public uint Type => Mode & TypeMask;
    public uint Permissions => Mode & 0xFFF; // incl. suid, sgid, sticky
    public bool IsDirectory => Type == 0x4000;
    public bool IsRegular => Type == 0x8000;
    public bool IsSymlink => Type == 0xA000;
    public bool IsDevice => Type is 0x2000 or 0x6000;

    public string TypeName => Type switch
    {
        0x8000 => "file", 0x4000 => "directory", 0xA000 => "symlink", 0x2000 => "char-device",
        0x6000 => "block-device", 0x1000 => "fifo", 0xC000 => "socket", _ => $"type-0x{Type:x}",
    };
}

/// <summary>Test-only libc calls. statx is used, not stat, because its layout is the same on every architecture.</summary>
internal static partial class Native
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint LListXattr(string path, byte* list, nuint size);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint LGetXattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEuid();

    public static unsafe FileStat LStat(string path)
    {
        var buf = stackalloc byte[256]; // sizeof(struct statx)
        if (StatxNative(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buf) != 0)
            throw new IOException($"statx {path}: errno {Marshal.GetLastPInvokeError()}");
        var s = new ReadOnlySpan<byte>(buf, 256);
        return new FileStat(
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(s[28..]), Uid: U32(s, 20), Gid: U32(s, 24), Nlink: U32(s, 16),
            Ino: U64(s, 32), DevMajor: U32(s, 136), DevMinor: U32(s, 140), Size: U64(s, 40),
            MtimeSec: (long)U64(s, 112), MtimeNsec: U32(s, 120), RdevMajor: U32(s, 128), RdevMinor: U32(s, 132));
    }

    // Offsets are those of struct statx in linux/stat.h.
    private static uint U32(ReadOnlySpan<byte> s, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(s[offset..]);

    private static ulong U64(ReadOnlySpan<byte> s, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(s[offset..]);

    /// <summary>Every extended attribute of path itself (not a symlink's target), name to exact bytes.</summary>
    public static unsafe SortedDictionary<string, byte[]> LXattrs(string path)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var size = LListXattr(path, null, 0);
        if (size < 0)
            return Errno() is 95 /* EOPNOTSUPP */ ? result : throw new IOException($"llistxattr {path}: errno {Errno()}");
        var names = new byte[size];
        fixed (byte* p = names)
            size = LListXattr(path, p, (nuint)names.Length);
        if (size < 0)
            throw new IOException($"llistxattr {path}: errno {Errno()}");
        foreach (var name in System.Text.Encoding.UTF8.GetString(names, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var len = LGetXattr(path, name, null, 0);
            if (len < 0)
                throw new IOException($"lgetxattr {path} {name}: errno {Errno()}");
            var value = new byte[len];
            fixed (byte* v = value)
                len = LGetXattr(path, name, v, (nuint)value.Length);
            if (len < 0)
                throw new IOException($"lgetxattr {path} {name}: errno {Errno()}");
            result[name] = value[..(int)len];
        }
        return result;
    }

    private static int Errno() => Marshal.GetLastPInvokeError();
}
