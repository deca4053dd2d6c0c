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
        using var session = FuseSession.Mount(new UnionFileSystem(options.Upper, options.Work, options.LowersTopFirst), options.MountPoint, options.Source);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; session.Dispose(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; session.Dispose(); });
        onReady?.Invoke();
        if (detach)
        {
            int devNull = Libc.OpenAt(Libc.AT_FDCWD, "/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            for (int fd = 0; fd <= 2; fd++) Libc.Dup2(devNull, fd);
        }
        session.Wait();
    }
}
