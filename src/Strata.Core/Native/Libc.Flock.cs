using System.Runtime.InteropServices;
using Strata.Errors;

namespace Strata.Native;

internal static partial class Libc
{
    private const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    private const int EWOULDBLOCK = 11, EINTR = 4;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    /// <summary>flock(2) on an open file; without <paramref name="wait"/> returns false when another holder has it.</summary>
    public static bool Lock(FileStream file, bool exclusive, bool wait, string what)
    {
        int fd = (int)file.SafeFileHandle.DangerousGetHandle();
        int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
        while (Flock(fd, op) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EWOULDBLOCK && !wait) return false;
            if (errno != EINTR) throw new StrataException(ErrorKind.Internal, $"cannot lock {what}: errno {errno}");
        }
        return true;
    }

    public static void Unlock(FileStream file) => _ = Flock((int)file.SafeFileHandle.DangerousGetHandle(), LOCK_UN);
}
