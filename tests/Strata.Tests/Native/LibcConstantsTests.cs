using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Strata.Fuse;
using Strata.Native;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Native;

/// <summary>
/// Every libc constant and struct layout Strata.Core hard-codes, against the C headers of this machine's architecture:
/// a C program prints what the headers say and each value the code uses must agree. The constants are found by
/// reflection, so one added to Libc or Errno is checked without touching this test.
/// </summary>
public partial class LibcConstantsTests
{
    internal const string Headers = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <stddef.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <sys/file.h>
        #include <sys/ioctl.h>
        #include <sys/mount.h>
        #include <sys/socket.h>
        #include <sys/stat.h>
        #include <sys/statvfs.h>
        #include <sys/syscall.h>
        #include <sys/sysmacros.h>
        #include <sys/uio.h>
        #include <unistd.h>
        #include <linux/fuse.h>
        #include <linux/openat2.h>
        /* FUSE passthrough came with protocol 7.40; older headers lack it. Its struct is spelled out from the kernel's
           so that at least the _IOW encoding, the part that depends on the architecture, comes from the headers. */
        #ifndef FUSE_DEV_IOC_BACKING_OPEN
        struct fuse_backing_map { int32_t fd; uint32_t flags; uint64_t padding; };
        #define FUSE_DEV_IOC_BACKING_OPEN _IOW(FUSE_DEV_IOC_MAGIC, 1, struct fuse_backing_map)
        #define FUSE_DEV_IOC_BACKING_CLOSE _IOW(FUSE_DEV_IOC_MAGIC, 2, uint32_t)
        #endif
        """;

    // Values the code keeps under a name of its own: the C expression each stands for.
    internal static readonly Dictionary<string, string> CSpelling = new(StringComparer.Ordinal)
    {
        ["CmsgSpaceOfOneFd"] = "CMSG_SPACE(sizeof(int))",
        ["CmsgDataOffset"] = "CMSG_LEN(0)",
    };

    // C# struct (nested in Libc or FuseProtocol) → C type, and each C# field → the C member at the same offset.
    internal static readonly (Type Owner, string Name, string C, (string Field, string Member)[] Fields)[] Structs =
    [
        (typeof(Libc), "Statx", "struct statx", [("Mask", "stx_mask"), ("BlockSize", "stx_blksize"), ("Attributes", "stx_attributes"),
            ("Nlink", "stx_nlink"), ("Uid", "stx_uid"), ("Gid", "stx_gid"), ("Mode", "stx_mode"), ("Ino", "stx_ino"), ("Size", "stx_size"),
            ("Blocks", "stx_blocks"), ("AttributesMask", "stx_attributes_mask"), ("Atime", "stx_atime"), ("Btime", "stx_btime"),
            ("Ctime", "stx_ctime"), ("Mtime", "stx_mtime"), ("RdevMajor", "stx_rdev_major"), ("RdevMinor", "stx_rdev_minor"),
            ("DevMajor", "stx_dev_major"), ("DevMinor", "stx_dev_minor")]),
        (typeof(Libc), "StatxTimestamp", "struct statx_timestamp", [("Seconds", "tv_sec"), ("Nanoseconds", "tv_nsec")]),
        (typeof(Libc), "Timespec", "struct timespec", [("Seconds", "tv_sec"), ("Nanoseconds", "tv_nsec")]),
        (typeof(Libc), "OpenHow", "struct open_how", [("Flags", "flags"), ("Mode", "mode"), ("Resolve", "resolve")]),
        (typeof(Libc), "Statvfs", "struct statvfs", [("Bsize", "f_bsize"), ("Frsize", "f_frsize"), ("Blocks", "f_blocks"), ("Bfree", "f_bfree"),
            ("Bavail", "f_bavail"), ("Files", "f_files"), ("Ffree", "f_ffree"), ("Favail", "f_favail"), ("Fsid", "f_fsid"),
            ("Flag", "f_flag"), ("Namemax", "f_namemax")]),
        (typeof(Libc), "IoVec", "struct iovec", [("Base", "iov_base"), ("Length", "iov_len")]),
        (typeof(Libc), "MsgHdr", "struct msghdr", [("Name", "msg_name"), ("NameLength", "msg_namelen"), ("Iov", "msg_iov"),
            ("IovLength", "msg_iovlen"), ("Control", "msg_control"), ("ControlLength", "msg_controllen"), ("Flags", "msg_flags")]),
        (typeof(Libc), "CmsgHdr", "struct cmsghdr", [("Length", "cmsg_len"), ("Level", "cmsg_level"), ("Type", "cmsg_type")]),
        (typeof(FuseProtocol), "BackingMap", "struct fuse_backing_map", [("Fd", "fd"), ("Flags", "flags"), ("Padding", "padding")]),
    ];

    private static readonly (int Major, int Minor)[] Devices = [(0, 0), (1, 3), (8, 17), (259, 65536), (4095, 1048575), (4096, 0x12345)];

    [Fact]
    public void ConstantsAreTheHeaders()
    {
        var constants = Constants();
        Assert.True(constants.Count > 80, $"found only {constants.Count} constants: the reflection below no longer sees them");
        Assert.Contains("O_DIRECTORY", constants.Keys);
        Assert.Contains("SYS_openat2", constants.Keys);
        var body = new StringBuilder();
        foreach (var name in constants.Keys)
            body.Append(CultureInfo.InvariantCulture, $"printf(\"{name}=%lld\\n\", (long long)({CSpelling.GetValueOrDefault(name, name)}));\n");
        foreach (var (major, minor) in Devices)
            body.Append(CultureInfo.InvariantCulture, $"printf(\"makedev({major},{minor})=%llu\\n\", (unsigned long long)makedev({major}, {minor}));\n");
        var c = RunC(body.ToString());
        var wrong = constants.Where(k => c[k.Key] != k.Value).Select(k => $"{k.Key}: Strata {k.Value:x}, headers {c[k.Key]:x}").ToList();
        foreach (var (major, minor) in Devices)
        {
            long ours = (long)Libc.MakeDev(major, minor), theirs = c[$"makedev({major},{minor})"];
            if (ours != theirs) wrong.Add($"makedev({major}, {minor}): Strata {ours:x}, headers {theirs:x}");
        }
        Assert.True(wrong.Count == 0, $"on {RuntimeInformation.ProcessArchitecture}:\n" + string.Join('\n', wrong));
    }

    [Fact]
    public void StructLayoutsAreTheHeaders()
    {
        var body = new StringBuilder();
        foreach (var (_, name, cType, fields) in Structs)
        {
            body.Append(CultureInfo.InvariantCulture, $"printf(\"{name}=%zu\\n\", sizeof({cType}));\n");
            foreach (var (field, member) in fields)
                body.Append(CultureInfo.InvariantCulture, $"printf(\"{name}.{field}=%zu\\n\", offsetof({cType}, {member}));\n");
        }
        var c = RunC(body.ToString());
        var wrong = new List<string>();
        foreach (var (owner, name, cType, fields) in Structs)
        {
            var type = StructType(owner, name);
            if (Marshal.SizeOf(type) != c[name]) wrong.Add($"sizeof({cType}): Strata {Marshal.SizeOf(type)}, headers {c[name]}");
            foreach (var (field, member) in fields)
            {
                long offset = Marshal.OffsetOf(type, field);
                if (offset != c[$"{name}.{field}"]) wrong.Add($"offsetof({cType}, {member}): Strata {offset}, headers {c[$"{name}.{field}"]}");
            }
        }
        Assert.True(wrong.Count == 0, $"on {RuntimeInformation.ProcessArchitecture}:\n" + string.Join('\n', wrong));
    }

    internal static Type StructType(Type owner, string name) => owner.GetNestedType(name, BindingFlags.Public | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException($"{owner.Name}.{name} is gone: update this test");

    /// <summary>The integer constants of Libc and Errno by their C names (upper case with an underscore, SYS_ calls, E*).</summary>
    internal static Dictionary<string, long> Constants()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static;
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var type in new[] { typeof(Libc), typeof(Errno) })
        {
            foreach (var f in type.GetFields(all).Where(f => (f.IsLiteral || f.IsInitOnly) && IsConstant(f.Name, f.FieldType)))
                result[f.Name] = Convert.ToInt64(f.GetValue(null), CultureInfo.InvariantCulture);
            foreach (var p in type.GetProperties(all).Where(p => p.GetIndexParameters().Length == 0 && IsConstant(p.Name, p.PropertyType)))
                result[p.Name] = Convert.ToInt64(p.GetValue(null), CultureInfo.InvariantCulture);
        }
        return result;

        static bool IsConstant(string name, Type type) =>
            type.IsPrimitive && type != typeof(bool) && type != typeof(char) && (CName().IsMatch(name) || CSpelling.ContainsKey(name));
    }

    [GeneratedRegex("^(?:[A-Z][A-Z0-9]*_[A-Z0-9_]+|SYS_[a-z0-9_]+|E[A-Z0-9]+)$")]
    private static partial Regex CName();

    /// <summary>Compiles and runs a C program of <see cref="Headers"/> and <paramref name="body"/>; its NAME=VALUE lines.</summary>
    private static Dictionary<string, long> RunC(string body)
    {
        Requires.Tool("clang");
        using var tmp = new TempDir("libc-constants");
        string source = tmp.Combine("constants.c"), program = tmp.Combine("constants");
        File.WriteAllText(source, $"{Headers}\nint main(void)\n{{\n{body}return 0;\n}}\n");
        Tool.Run("clang", "-std=c11", "-Wall", "-Werror", "-o", program, source);
        var output = Tool.Run(program).Stdout;
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }
}
