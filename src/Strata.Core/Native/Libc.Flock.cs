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

    /// <summary>How long a wait for another process's flock lasts (while it shows no progress) before failing.</summary>
    public static readonly TimeSpan LockWait = TimeSpan.FromMinutes(10);

    /// <summary>flock(2) on an open file: see <see cref="Flock(Microsoft.Win32.SafeHandles.SafeFileHandle, bool, bool, string, Func{long}?, TimeSpan?)"/>.</summary>
    public static bool Lock(FileStream file, bool exclusive, bool wait, string what, Func<long>? progress = null, TimeSpan? bound = null) =>
        Flock(file.SafeFileHandle, exclusive, wait, what, progress, bound);

    /// <summary>
    /// flock(2) on an open file or directory; without <paramref name="wait"/> returns false when another holder has it.
    /// A wait is bounded (<see cref="LockWait"/> unless <paramref name="bound"/>), counted afresh whenever
    /// <paramref name="progress"/> (the holder's work, say a file's length) changes: a holder that hangs fails the
    /// waiter with one line (exit 4) instead of stalling it for good.
    /// </summary>
    public static bool Flock(Microsoft.Win32.SafeHandles.SafeFileHandle handle, bool exclusive, bool wait, string what = "a file",
        Func<long>? progress = null, TimeSpan? bound = null)
    {
        int fd = (int)handle.DangerousGetHandle();
        int op = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var sinceProgress = System.Diagnostics.Stopwatch.StartNew();
        long last = progress?.Invoke() ?? 0;
        int pause = 1;
        while (Flock(fd, op) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR) continue;
            if (errno != Errno.EWOULDBLOCK) throw new StrataException(ErrorKind.Internal, $"cannot lock {what}: errno {errno}");
            if (!wait) return false;
            if (progress?.Invoke() is { } now && now != last)
            {
                last = now;
                sinceProgress.Restart();
            }
            if (sinceProgress.Elapsed >= (bound ?? LockWait))
                throw new StrataException(ErrorKind.Conflict, $"another strata process holds {what}"
                    + (progress is null ? "" : " and made no progress") + $"; waited {waited.Elapsed.TotalSeconds:0} s");
            // Polled (flock has no timeout): quickly at first, then every 50 ms.
            Thread.Sleep(pause);
            pause = Math.Min(pause * 2, 50);
        }
        return true;
    }

    public static void Unlock(FileStream file) => _ = Flock((int)file.SafeFileHandle.DangerousGetHandle(), LOCK_UN);
}
