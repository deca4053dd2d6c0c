using Strata.Errors;
using Strata.Native;
using Strata.Snapshots;
using static Strata.Native.Libc;

namespace Strata.Union;

/// <summary>
/// The kernel's mounts of a snapshot: overlayfs, and bind mounts. Mounted without touching process-wide state (no
/// chdir, which would change what another thread's relative paths mean). The new mount API takes one "lowerdir+"
/// per layer (Linux 6.8), so stacks up to overlayfs's 500 layers fit; older kernels get mount(2) with the layers
/// reached through an fd on their common directory.
/// </summary>
internal sealed class KernelOverlayMounter : IUnionMounter
{
    /// <summary>False: always mount(2), as on kernels before 6.8 (lets tests cover that path on any kernel).</summary>
    internal bool UseMountApi { get; init; } = true;

    public void Mount(string target, IReadOnlyList<MountSpec> mounts)
    {
        if (mounts is not [var m]) throw new StrataException(ErrorKind.Unsupported, $"{mounts.Count} mounts for one target: only one is supported");
        switch (m.Type)
        {
            case "bind":
                Bind(target, m.Source, m.ReadOnly);
                break;
            case "overlay":
                var lowers = m.LowerDirs.ToList();
                string? upper = m.Option("upperdir"), work = m.Option("workdir");
                if (lowers.Count == 0) throw StrataException.Invalid("an overlay mount needs lowerdir");
                if (!UseMountApi || !TryMountApi(target, lowers, upper, work)) MountLegacy(target, lowers, upper, work);
                break;
            default:
                throw new StrataException(ErrorKind.Unsupported, $"cannot mount type {m.Type}: overlay and bind are supported");
        }
    }

    public void Unmount(string target)
    {
        // Detach, so copies of the mount in other namespaces do not keep it busy (moby's overlay2 does the same).
        if (Umount2(target, MNT_DETACH) != 0) throw new ErrnoException(LastErrno, "umount", target);
    }

    private static void Bind(string target, string source, bool readOnly)
    {
        if (Libc.Mount(source, target, "", MS_BIND | MS_REC, "") != 0) throw MountError(LastErrno, target);
        if (readOnly && Libc.Mount("", target, "", MS_BIND | MS_REMOUNT | MS_RDONLY, "") != 0)
        {
            int errno = LastErrno;
            Umount2(target, MNT_DETACH);
            throw MountError(errno, target);
        }
    }

    /// <summary>
    /// fsopen, one fsconfig per layer, fsmount, move_mount. Layers go by O_PATH fd where the kernel takes them so
    /// (6.15; no 256-byte limit on a path), else by path. False, having mounted nothing, where there is no "lowerdir+".
    /// </summary>
    private static bool TryMountApi(string target, List<string> lowers, string? upper, string? work)
    {
        int fs = FsOpen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0) return false; // no new mount API (or filtered): mount(2) tells what is wrong, if anything
        int mnt = -1;
        bool? byFd = null; // decided by the first layer
        try
        {
            Set(fs, "source", "overlay", target); // as mount(2) shows it
            foreach (var l in lowers)
                if (!SetDir(fs, "lowerdir+", l, target, ref byFd)) return false;
            if (upper is not null)
            {
                SetDir(fs, "upperdir", upper, target, ref byFd);
                SetDir(fs, "workdir", work ?? throw StrataException.Invalid("an overlay upperdir needs a workdir"), target, ref byFd);
            }
            Set(fs, "index", "off", target);
            if (FsConfig(fs, FSCONFIG_CMD_CREATE, null, null, 0) != 0) throw MountError(LastErrno, target);
            mnt = FsMount(fs, FSMOUNT_CLOEXEC, upper is null ? MOUNT_ATTR_RDONLY : 0);
            if (mnt < 0) throw MountError(LastErrno, target);
            if (MoveMount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) throw MountError(LastErrno, target);
            return true;
        }
        finally
        {
            if (mnt >= 0) Close(mnt);
            Close(fs);
        }
    }

    private static void Set(int fs, string key, string value, string target)
    {
        if (FsConfig(fs, FSCONFIG_SET_STRING, key, value, 0) != 0) throw new ErrnoException(LastErrno, $"fsconfig {key}", target);
    }

    /// <summary>One directory parameter; false when the kernel takes no "lowerdir+" (before 6.8).</summary>
    private static bool SetDir(int fs, string key, string path, string target, ref bool? byFd)
    {
        int dir = OpenAt(AT_FDCWD, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (dir < 0) throw MountError(LastErrno, target);
        try
        {
            if (byFd != false)
            {
                if (FsConfig(fs, FSCONFIG_SET_FD, key, null, dir) == 0) { byFd = true; return true; }
                if (byFd == true) throw new ErrnoException(LastErrno, $"fsconfig {key}", target);
                byFd = false; // a layer is a path before 6.15 (EINVAL, or EBADF for an O_PATH fd in 6.13 and 6.14)
            }
            if (FsConfig(fs, FSCONFIG_SET_STRING, key, path, 0) == 0) return true;
            int errno = LastErrno;
            if (errno == Errno.EINVAL && key == "lowerdir+") return false; // nothing is mounted yet: mount(2) may still do
            throw new ErrnoException(errno, $"fsconfig {key}", target);
        }
        finally
        {
            Close(dir);
        }
    }

    /// <summary>
    /// mount(2), for kernels before 6.8: lowers by their paths under their common directory, reached through
    /// /proc/self/fd (the fd is closed after), so some 85 of overlay's 26-character links fit the one page of options.
    /// </summary>
    private static void MountLegacy(string target, List<string> lowers, string? upper, string? work)
    {
        var common = CommonDirectory(lowers);
        int home = OpenAt(AT_FDCWD, common, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (home < 0) throw MountError(LastErrno, target);
        try
        {
            var data = "lowerdir=" + string.Join(':', lowers.Select(l => $"/proc/self/fd/{home}/{Path.GetRelativePath(common, l)}"))
                + (upper is null ? "" : $",upperdir={upper},workdir={work}") + ",index=off";
            if (data.Length >= 4000)
                throw new StrataException(ErrorKind.Unsupported, $"{lowers.Count} layers need overlayfs \"lowerdir+\" (Linux 6.8) or fewer layers");
            if (Libc.Mount("overlay", target, "overlay", upper is null ? MS_RDONLY : 0, data) != 0) throw MountError(LastErrno, target);
        }
        finally
        {
            Close(home);
        }
    }

    /// <summary>The deepest directory every path is under ("/" at worst).</summary>
    private static string CommonDirectory(List<string> paths)
    {
        var common = Path.GetDirectoryName(paths[0]) ?? "/";
        while (!paths.All(p => p.StartsWith(common.EndsWith('/') ? common : common + "/", StringComparison.Ordinal)))
            common = Path.GetDirectoryName(common) ?? "/";
        return common;
    }

    private static StrataException MountError(int errno, string target) => errno is Errno.EPERM or Errno.EACCES
        ? new StrataException(ErrorKind.PermissionDenied, "mounting needs root (CAP_SYS_ADMIN)")
        : new ErrnoException(errno, "mount overlay on", target);
}
