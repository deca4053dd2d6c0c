using System.Diagnostics;
using Strata.Errors;
using Strata.Native;

namespace Strata.Fuse;

/// <summary>
/// Gets a /dev/fuse connection mounted at a directory: as root with mount(2) directly; otherwise through the
/// setuid fusermount3, which mounts and hands the device fd back over a socket (SCM_RIGHTS). auto_unmount is asked
/// for, but libfuse 3.14's did not take a killed daemon's mount off here: <see cref="IsDead"/> and the store's
/// sweep do that.
/// </summary>
internal static class FuseMount
{
    public const string FsType = "strata-overlay";

    /// <summary>Whether this process mounts itself (root) or needs fusermount3.</summary>
    public static bool Privileged => Libc.GetEuid() == 0;

    /// <summary>
    /// Root of a user namespace (rootless podman's, say) rather than of the machine: it may mount FUSE and chown within
    /// its mapping, but not write trusted.* xattrs or register passthrough files. Told by a uid map that is not whole.
    /// </summary>
    public static bool InUserNamespace { get; } = ReadUidMap() is { } map && map.Split(' ', StringSplitOptions.RemoveEmptyEntries) is not ["0", "0", "4294967295"];

    /// <summary>Root of the machine: may write trusted.* xattrs, chown freely and register passthrough files.</summary>
    public static bool RootOfMachine => Privileged && !InUserNamespace;

    private static string? ReadUidMap()
    {
        try { return Native.UnlockedFile.ReadAllText("/proc/self/uid_map").Trim(); }
        catch (IOException) { return null; }
    }

    /// <param name="kernelChecksPermissions">
    /// default_permissions: the kernel checks access from the attributes shown. Off for a rootless view, where the
    /// mounting user acts as root of the files it owns (as in its own user namespace).
    /// </param>
    /// <returns>The /dev/fuse fd, and for fusermount3 the socket whose closing unmounts (kept open by the caller).</returns>
    public static (int Fd, int AutoUnmountSocket) Open(string mountPoint, string source, bool kernelChecksPermissions)
    {
        source = source.Replace(",", "_", StringComparison.Ordinal);
        return Privileged ? (MountDirect(mountPoint, source, kernelChecksPermissions), -1) : MountWithHelper(mountPoint, source, kernelChecksPermissions);
    }

    private static int MountDirect(string mountPoint, string source, bool kernelChecksPermissions)
    {
        int fd = Libc.OpenAt(Libc.AT_FDCWD, "/dev/fuse", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0) throw new ErrnoException(Libc.LastErrno, "open", "/dev/fuse");
        var options = $"fd={fd},rootmode=40000,user_id={Libc.GetEuid()},group_id=0,allow_other" + (kernelChecksPermissions ? ",default_permissions" : "");
        if (Libc.Mount(source, mountPoint, "fuse." + FsType, Libc.MS_NOSUID | Libc.MS_NODEV, options) != 0)
        {
            int errno = Libc.LastErrno;
            Libc.Close(fd);
            throw new ErrnoException(errno, "mount fuse at", mountPoint);
        }
        return fd;
    }

    private static (int Fd, int Socket) MountWithHelper(string mountPoint, string source, bool kernelChecksPermissions)
    {
        // The helper's end is inherited (no CLOEXEC); ours is not, so no other child keeps the mount alive.
        if (Libc.SocketPair(Libc.SOCK_STREAM, out int ours, out int theirs) != 0) throw new ErrnoException(Libc.LastErrno, "socketpair", mountPoint);
        if (Libc.Fcntl(ours, Libc.F_SETFD, Libc.FD_CLOEXEC) != 0) throw new ErrnoException(Libc.LastErrno, "fcntl", mountPoint);
        var psi = new ProcessStartInfo("fusermount3") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[] { "-o", $"fsname={source},subtype={FsType},auto_unmount" + (kernelChecksPermissions ? ",default_permissions" : ""), "--", mountPoint })
            psi.ArgumentList.Add(a);
        psi.Environment["_FUSE_COMMFD"] = theirs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Process helper;
        try
        {
            helper = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Libc.Close(ours);
            Libc.Close(theirs);
            throw new StrataException(ErrorKind.Unsupported, "mounting FUSE without root needs fusermount3 (Debian package fuse3)");
        }
        Libc.Close(theirs);
        int fd = Libc.ReceiveFd(ours);
        if (fd >= 0) return (fd, ours); // fusermount3 stays (auto_unmount), waiting for our end to close
        Libc.Close(ours);
        var message = helper.StandardError.ReadToEnd().Trim();
        helper.WaitForExit();
        if (message.Contains("/dev/fuse", StringComparison.Ordinal) && message.Contains("Permission denied", StringComparison.Ordinal))
            throw new StrataException(ErrorKind.PermissionDenied,
                "/dev/fuse is not open to this user (Debian's udev makes it 0666; as root: chmod 0666 /dev/fuse)");
        throw new StrataException(ErrorKind.Internal, $"fusermount3 could not mount {mountPoint}: {(message.Length > 0 ? message.Split('\n')[^1] : $"exit code {helper.ExitCode}")}");
    }

    /// <summary>Unmounts a FUSE mount (also a dead one); as non-root through fusermount3, which owns the rule of who may.</summary>
    public static void Unmount(string mountPoint)
    {
        if (Privileged)
        {
            if (Libc.Umount2(mountPoint, Libc.MNT_DETACH) != 0 && Libc.LastErrno != Errno.EINVAL)
                throw new ErrnoException(Libc.LastErrno, "umount", mountPoint);
            return;
        }
        var psi = new ProcessStartInfo("fusermount3") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-u", "-z", "--", mountPoint }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEndAsync();
        // A lazy unmount returns at once; a helper that does not is not waited for past a bound.
        if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            try { p.Kill(); } catch (InvalidOperationException) { }
            throw new StrataException(ErrorKind.Internal, $"fusermount3 -u {mountPoint} did not return within 30 s");
        }
        if (p.ExitCode != 0 && Libc.IsMountPoint(mountPoint))
            throw new StrataException(ErrorKind.Internal, $"fusermount3 -u {mountPoint}: {error.Result.Trim()}");
    }

    /// <summary>
    /// A FUSE mount whose daemon is gone: statfs always asks the daemon (a stat may be answered from the kernel's
    /// attribute cache), and a dead connection answers ENOTCONN.
    /// </summary>
    public static bool IsDead(string mountPoint) =>
        Libc.StatVfs(mountPoint, out _) != 0 && Libc.LastErrno == Errno.ENOTCONN && Libc.IsMountPoint(mountPoint);
}
