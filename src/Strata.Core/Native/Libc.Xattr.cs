using System.Runtime.InteropServices;
using System.Text;

namespace Strata.Native;

/// <summary>Extended attributes by path, never following the last symlink; values are raw bytes.</summary>
internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LsetxattrRaw(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LgetxattrRaw(string path, string name, Span<byte> value, nuint size);

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LlistxattrRaw(string path, Span<byte> list, nuint size);

    public static void SetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        if (LsetxattrRaw(path, name, value, (nuint)value.Length, 0) != 0)
            throw new ErrnoException(LastErrno, $"setxattr {name} on", path);
    }

    /// <summary>One xattr's value, or null when the path has none of that name (or the file system no xattrs).</summary>
    public static byte[]? GetXattr(string path, string name)
    {
        Span<byte> buffer = stackalloc byte[256];
        nint len = LgetxattrRaw(path, name, buffer, (nuint)buffer.Length);
        if (len >= 0) return buffer[..(int)len].ToArray();
        int errno = LastErrno;
        if (errno is Errno.ENODATA or Errno.EOPNOTSUPP or Errno.ENOENT) return null;
        if (errno != Errno.ERANGE) throw new ErrnoException(errno, $"getxattr {name} on", path);
        len = LgetxattrRaw(path, name, default, 0);
        if (len < 0) return null;
        var value = new byte[len];
        len = LgetxattrRaw(path, name, value, (nuint)value.Length);
        return len < 0 ? null : value[..(int)len];
    }

    /// <summary>All xattrs of a path, values exact; an empty map where the file system has none.</summary>
    public static Dictionary<string, byte[]> ListXattrs(string path)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        nint size = LlistxattrRaw(path, default, 0);
        if (size < 0)
        {
            int errno = LastErrno;
            if (errno is Errno.EOPNOTSUPP or Errno.ENODATA) return result;
            throw new ErrnoException(errno, "listxattr", path);
        }
        if (size == 0) return result;
        var names = new byte[size];
        size = LlistxattrRaw(path, names, (nuint)names.Length);
        if (size < 0) throw new ErrnoException(LastErrno, "listxattr", path);
        int start = 0;
        for (int i = 0; i < size; i++)
        {
            if (names[i] != 0) continue;
            var name = Encoding.UTF8.GetString(names, start, i - start);
            start = i + 1;
            if (name.Length == 0) continue;
            nint len = LgetxattrRaw(path, name, default, 0);
            if (len < 0) continue; // removed meanwhile, or not readable (EOVERFLOW on an unmappable capability)
            var value = new byte[len];
            len = LgetxattrRaw(path, name, value, (nuint)value.Length);
            if (len >= 0) result[name] = value[..(int)len];
        }
        return result;
    }
}
