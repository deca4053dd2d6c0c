using Strata.Errors;
using Strata.Native;
using Strata.Storage;
using static Strata.Native.Libc;

namespace Strata.Union;

/// <summary>
/// The kernel's overlayfs, mounted without touching process-wide state: no chdir, which would change what another
/// thread's relative paths mean. The new mount API takes one "lowerdir+" per layer (Linux 6.8), so stacks up to
/// overlayfs's 500 layers fit; older kernels get mount(2) with the layers' short links reached through an fd.
/// </summary>
internal sealed class KernelOverlayMounter(string layersHome) : IUnionMounter
{
    /// <summary>False: always mount(2), as on kernels before 6.8 (lets tests cover that path on any kernel).</summary>
    internal bool UseMountApi { get; init; } = true;

    public void Mount(string target, IReadOnlyList<LayerInfo> stack, string? upper, string? work)
    {
        var lowers = Enumerable.Reverse(stack).Select(l => "l/" + l.Link).ToList();
        if (lowers.Count == 0 || (upper is null && lowers.Count == 1)) lowers.Add("empty"); // overlayfs wants two lowers without an upper
        if (!UseMountApi || !TryMountApi(target, lowers, upper, work)) MountLegacy(target, lowers, upper, work);
    }

    public void Unmount(string target)
    {
        // Detach, so copies of the mount in other namespaces do not keep it busy (moby's overlay2 does the same).
        if (Umount2(target, MNT_DETACH) != 0) throw new ErrnoException(LastErrno, "umount", target);
    }

    /// <summary>
    /// fsopen, one fsconfig per layer, fsmount, move_mount. Layers go by O_PATH fd where the kernel takes them so
    /// (6.15; no 256-byte limit on a path), else by path. False, having mounted nothing, where there is no "lowerdir+".
    /// </summary>
    private bool TryMountApi(string target, List<string> lowers, string? upper, string? work)
    {
        int fs = FsOpen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0) return false; // no new mount API (or filtered): mount(2) tells what is wrong, if anything
        int mnt = -1;
        bool? byFd = null; // decided by the first layer
        try
        {
            Set(fs, "source", "overlay", target); // as mount(2) shows it
            foreach (var l in lowers)
                if (!SetDir(fs, "lowerdir+", Path.Combine(layersHome, l), target, ref byFd)) return false;
            if (upper is not null)
            {
                SetDir(fs, "upperdir", upper, target, ref byFd);
                SetDir(fs, "workdir", work!, target, ref byFd);
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
    /// mount(2), for kernels before 6.8: lowers by their short links through /proc/self/fd of the layers' home (the
    /// fd is closed after), so some 85 layers fit the one page of options.
    /// </summary>
    private void MountLegacy(string target, List<string> lowers, string? upper, string? work)
    {
        int home = OpenAt(AT_FDCWD, layersHome, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (home < 0) throw MountError(LastErrno, target);
        try
        {
            var data = "lowerdir=" + string.Join(':', lowers.Select(l => $"/proc/self/fd/{home}/{l}"))
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

    private static StrataException MountError(int errno, string target) => errno is Errno.EPERM or Errno.EACCES
        ? new StrataException(ErrorKind.PermissionDenied, "mounting overlayfs needs root (CAP_SYS_ADMIN)")
        : new ErrnoException(errno, "mount overlay on", target);
}
