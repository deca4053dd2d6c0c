using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Strata.Native;

/// <summary>
/// Files opened by path without .NET's advisory lock. The rule (BannedSymbols.txt holds every other way to open by
/// path): on Unix a FileStream or File.* call by path takes flock LOCK_SH, or LOCK_EX|LOCK_NB for FileShare.None, on
/// the file, so a second opener fails with "being used by another process" and Strata's own flocks (store.lock,
/// resumable partials), or those of the programs in a container, clash with it; open by path only through here.
/// </summary>
/// <remarks>Failures are .NET's exceptions: FileNotFoundException, UnauthorizedAccessException, or an IOException
/// whose HResult is the errno and whose message ends in " : 'PATH'", as a FileStream's would be.</remarks>
internal static class UnlockedFile
{
    /// <summary>Opens a file to read.</summary>
    public static FileStream OpenRead(string path, int bufferSize = 1 << 16) =>
        Wrap(Open(path, Libc.O_RDONLY, 0), FileAccess.Read, bufferSize);

    /// <summary>Creates (or truncates, unless <paramref name="createNew"/>) a file to write; mode 0644 less the umask by default.</summary>
    public static FileStream Create(string path, bool createNew = false, uint mode = 0x1a4, int bufferSize = 1 << 16) =>
        Wrap(Open(path, Libc.O_WRONLY | Libc.O_CREAT | (createNew ? Libc.O_EXCL : Libc.O_TRUNC), mode), FileAccess.Write, bufferSize);

    /// <summary>Opens a file to read and write, made if <paramref name="create"/> and missing.</summary>
    public static FileStream OpenReadWrite(string path, bool create, int bufferSize = 1 << 16) =>
        Wrap(Open(path, Libc.O_RDWR | (create ? Libc.O_CREAT : 0), 0x1a4), FileAccess.ReadWrite, bufferSize);

    public static byte[] ReadAllBytes(string path)
    {
        using var f = OpenRead(path, bufferSize: 0);
        using var ms = new MemoryStream();
        // Read to the end, not to Length: /proc files have none.
        var buffer = new byte[1 << 16];
        int n;
        while ((n = f.Read(buffer)) > 0) ms.Write(buffer, 0, n);
        return ms.ToArray();
    }

    public static string ReadAllText(string path) => System.Text.Encoding.UTF8.GetString(ReadAllBytes(path));

    public static IEnumerable<string> ReadLines(string path)
    {
        using var reader = new StreamReader(OpenRead(path));
        while (reader.ReadLine() is { } line) yield return line;
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        using var f = Create(path, bufferSize: 0);
        f.Write(content);
    }

    /// <summary>open(2) with O_CLOEXEC; the fd, or the exception .NET would throw.</summary>
    public static int Open(string path, int flags, uint mode)
    {
        int fd;
        do fd = Libc.OpenAt(Libc.AT_FDCWD, path, flags | Libc.O_CLOEXEC, mode);
        while (fd < 0 && Libc.LastErrno == Errno.EINTR);
        if (fd >= 0) return fd;
        int errno = Libc.LastErrno;
        var message = $"{Marshal.GetPInvokeErrorMessage(errno)} : '{path}'";
        throw errno switch
        {
            Errno.ENOENT or Errno.ENOTDIR => new FileNotFoundException(message, path),
            Errno.EACCES or Errno.EPERM => new UnauthorizedAccessException(message),
            _ => new IOException(message, errno),
        };
    }

    private static FileStream Wrap(int fd, FileAccess access, int bufferSize) =>
        new(new SafeFileHandle(fd, ownsHandle: true), access, bufferSize);
}
