using System.Runtime.InteropServices;
using Strata.Native;

namespace Strata.Fuse;

/// <summary>Serves a union mount in this process until it is unmounted (by umount, fusermount3 -u, SIGTERM or SIGINT).</summary>
public static class FuseOverlay
{
    public static bool IsMounted(string path) => Libc.IsMountPoint(path);

    /// <param name="onReady">Called once the mount is up.</param>
    /// <param name="detach">Become a session leader and let go of stdio after <paramref name="onReady"/> (a daemon).</param>
    public static void Serve(OverlayMountOptions options, Action? onReady = null, bool detach = false)
    {
        if (detach) Libc.Setsid();
        var fs = new UnionFileSystem(options.Upper, options.Work, options.LowersTopFirst, options.OwnersInXattrs, options.UserXattrs);
        using var session = FuseSession.Mount(fs, options.MountPoint, options.Source, kernelChecksPermissions: FuseMount.Privileged, passthrough: options.Passthrough);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; session.Dispose(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; session.Dispose(); });
        onReady?.Invoke();
        if (detach)
        {
            int devNull = Libc.OpenAt(Libc.AT_FDCWD, "/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            int log = options.LogPath is null ? -1 : Libc.OpenAt(Libc.AT_FDCWD, options.LogPath, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC, 0x180);
            Libc.Dup2(devNull, 0);
            Libc.Dup2(devNull, 1);
            Libc.Dup2(log >= 0 ? log : devNull, 2);
            // .NET's Console.Error writes to its own dup of the old fd 2: point it at the new one.
            Console.SetError(new StreamWriter(new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(2, ownsHandle: false), FileAccess.Write, 1)) { AutoFlush = true });
        }
        session.Wait();
    }
}
