using System.Runtime.InteropServices;
using Strata.Errors;

namespace Strata.Storage;

/// <summary>
/// A whole-store advisory lock (flock on root/store.lock). Writers that add content hold it shared until
/// their record is committed; garbage collection holds it exclusive, so it never deletes a blob that a
/// concurrent load has ingested but not yet named. The kernel drops it when the process dies.
/// </summary>
public sealed partial class StoreLock : IDisposable
{
    private const int LockShared = 1, LockExclusive = 2, LockUnlock = 8;
    private readonly FileStream _file;

    private StoreLock(string root, bool exclusive)
    {
        _file = new FileStream(Path.Combine(root, "store.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        int fd = (int)_file.SafeFileHandle.DangerousGetHandle();
        while (Flock(fd, exclusive ? LockExclusive : LockShared) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != 4 /* EINTR */) throw new StrataException(ErrorKind.Internal, $"cannot lock the store: errno {errno}");
        }
    }

    public static StoreLock Shared(string root) => new(root, exclusive: false);
    public static StoreLock Exclusive(string root) => new(root, exclusive: true);

    public void Dispose()
    {
        _ = Flock((int)_file.SafeFileHandle.DangerousGetHandle(), LockUnlock);
        _file.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);
}
