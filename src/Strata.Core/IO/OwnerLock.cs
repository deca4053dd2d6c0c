using Microsoft.Win32.SafeHandles;
using Strata.Native;

namespace Strata.IO;

/// <summary>
/// Tells a file or directory a writer is still making from one a killed writer left. The writer holds an exclusive
/// flock on it from the moment it exists until it is renamed into place or removed; the kernel drops that lock when
/// the writer dies (SIGKILL and power loss alike). So whoever can take the lock knows the maker is gone and may remove
/// it at once, however young: no age rule, and a live writer's file is never taken.
/// </summary>
internal static class OwnerLock
{
    /// <summary>
    /// Creates a new file and locks it, as a <see cref="FileStream"/> to write; null when a sweeper took the name
    /// between the create and the lock (the caller tries another name).
    /// </summary>
    public static FileStream? CreateFile(string path)
    {
        int fd = Libc.OpenAt(Libc.AT_FDCWD, path, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1a4 /* 0644 */);
        if (fd < 0) throw new ErrnoException(Libc.LastErrno, "create", path);
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (LockAsOwner(handle, path)) return new FileStream(handle, FileAccess.Write, 1 << 16);
        }
        catch
        {
            File.Delete(path); // made by this call and not handed out: nobody else would know to remove it
            handle.Dispose();
            throw;
        }
        handle.Dispose();
        return null;
    }

    /// <summary>Makes a new directory and locks it; null when a sweeper took it first (the caller tries another name).</summary>
    public static SafeFileHandle? CreateDirectory(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (Libc.MkdirAt(Libc.AT_FDCWD, path, 0x1ed /* 0755 */) != 0) throw new ErrnoException(Libc.LastErrno, "mkdir", path);
        return Hold(path);
    }

    /// <summary>Locks an existing file or directory as its owner (waiting for a sweeper that has it); null when it is gone.</summary>
    public static SafeFileHandle? Hold(string path)
    {
        var handle = Open(path);
        if (handle is null) return null;
        if (LockAsOwner(handle, path)) return handle;
        handle.Dispose();
        return null;
    }

    /// <summary>Whether a live process holds the path (false too when it is gone).</summary>
    public static bool IsHeld(string path)
    {
        using var handle = Open(path);
        return handle is not null && !Libc.Flock(handle, exclusive: true, wait: false);
    }

    /// <summary>
    /// Removes a file or directory tree whose maker is gone, holding its lock meanwhile (so its maker, had it only just
    /// made it, sees it vanish and picks another name). False when a live process holds it or it is gone already.
    /// </summary>
    public static bool TryRemoveAbandoned(string path)
    {
        using var handle = Open(path);
        if (handle is null || !Libc.Flock(handle, exclusive: true, wait: false)) return false;
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    private static SafeFileHandle? Open(string path)
    {
        int fd = Libc.OpenAt(Libc.AT_FDCWD, path, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd >= 0) return new SafeFileHandle(fd, ownsHandle: true);
        int errno = Libc.LastErrno;
        if (errno is Errno.ENOENT or Errno.ENOTDIR or Errno.ELOOP) return null; // gone, or a link (never ours to lock)
        throw new ErrnoException(errno, "open", path);
    }

    /// <summary>Waits for the lock, then checks the path still names the locked file: a sweeper may have removed it first.</summary>
    private static bool LockAsOwner(SafeFileHandle handle, string path)
    {
        Libc.Flock(handle, exclusive: true, wait: true);
        return Libc.TryLstatAt(Libc.AT_FDCWD, path, out var now) && now.Ino == Libc.StatFd((int)handle.DangerousGetHandle()).Ino;
    }
}
