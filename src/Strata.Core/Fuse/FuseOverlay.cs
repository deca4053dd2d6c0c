using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Strata.Native;

namespace Strata.Fuse;

/// <summary>Serves a union mount in this process until it is unmounted (by umount, fusermount3 -u, SIGTERM or SIGINT).</summary>
internal static class FuseOverlay
{
    /// <summary>Whether a path is a mount point now.</summary>
    public static bool IsMounted(string path) => Libc.IsMountPoint(path);

    /// <param name="options">The mount, as strata-overlay's command line gave it.</param>
    /// <param name="onReady">Called once the mount is up.</param>
    /// <param name="detach">Become a session leader and let go of stdio after <paramref name="onReady"/> (a daemon); the log file then takes its stderr.</param>
    /// <param name="log">Where the session tells of failed requests.</param>
    /// <param name="logRequestCounts">At unmount, log how many requests of each kind came.</param>
    public static void Serve(OverlayMountOptions options, Action? onReady = null, bool detach = false, ILogger? log = null, bool logRequestCounts = false)
    {
        if (detach) Libc.Setsid();
        var fs = new UnionFileSystem(options.Upper, options.Work, options.LowersTopFirst, options.OwnersInXattrs, options.UserXattrs);
        using var session = FuseSession.Mount(fs, options.MountPoint, options.Source, kernelChecksPermissions: FuseMount.Privileged, passthrough: options.Passthrough, log: log, logRequestCounts: logRequestCounts);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; session.Dispose(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; session.Dispose(); });
        onReady?.Invoke();
        int logFile = -1;
        if (detach)
        {
            int devNull = Libc.OpenAt(Libc.AT_FDCWD, "/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            logFile = options.LogPath is null ? -1 : Libc.OpenAt(Libc.AT_FDCWD, options.LogPath, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC, 0x180);
            Libc.Dup2(devNull, 0);
            Libc.Dup2(devNull, 1);
            Libc.Dup2(logFile >= 0 ? logFile : devNull, 2);
        }
        session.Wait();
        if (logFile >= 0) RemoveIfEmpty(options.LogPath!, logFile);
    }

    /// <summary>A log with nothing in it goes with its mount: a store must not gather one empty file per container.</summary>
    private static void RemoveIfEmpty(string path, int fd)
    {
        try
        {
            var mine = Libc.StatFd(fd);
            // Only the very file this daemon wrote to (a later mount of the same target may have made a new one).
            if (mine.Size == 0 && Libc.TryLstatAt(Libc.AT_FDCWD, path, out var now) && now.Ino == mine.Ino && now.Size == 0)
                File.Delete(path);
        }
        catch (Exception e) when (e is Errors.StrataException or IOException or UnauthorizedAccessException)
        {
            // The mount is gone either way; a log left behind is only clutter.
        }
    }
}
