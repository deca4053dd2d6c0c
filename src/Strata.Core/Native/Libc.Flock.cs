using System.Runtime.InteropServices;
using Strata.Errors;

namespace Strata.Native;

internal static partial class Libc
{
    private const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    /// <summary>
    /// Opens a file for flock without .NET's own advisory lock (FileStream takes a non-blocking flock of its own on
    /// open, which fails at once where we mean to wait).
    /// </summary>
    public static FileStream OpenForLocking(string path, bool create, FileAccess access = FileAccess.ReadWrite)
    {
        int flags = (access == FileAccess.Read ? O_RDONLY : O_RDWR) | O_CLOEXEC | (create ? O_CREAT : 0);
        int fd = OpenAt(AT_FDCWD, path, flags, 0x1a4 /* 0644 */);
        if (fd < 0)
        {
            int errno = LastErrno;
            if (errno == Errno.ENOENT) throw new FileNotFoundException($"{path} does not exist", path);
            throw new ErrnoException(errno, "open", path);
        }
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), access, 1 << 16);
    }

    /// <summary>flock(2) on an open file; without <paramref name="wait"/> returns false when another holder has it.</summary>
    public static bool Lock(FileStream file, bool exclusive, bool wait, string what) => Flock(file.SafeFileHandle, exclusive, wait, what);

    /// <summary>flock(2) on an open file or directory; without <paramref name="wait"/> returns false when another holder has it.</summary>
    public static bool Flock(Microsoft.Win32.SafeHandles.SafeFileHandle handle, bool exclusive, bool wait, string what = "a file")
    {
        int fd = (int)handle.DangerousGetHandle();
        int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
        while (Flock(fd, op) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EWOULDBLOCK && !wait) return false;
            if (errno != Errno.EINTR) throw new StrataException(ErrorKind.Internal, $"cannot lock {what}: errno {errno}");
        }
        return true;
    }

    public static void Unlock(FileStream file) => _ = Flock((int)file.SafeFileHandle.DangerousGetHandle(), LOCK_UN);
}
