using Strata.Errors;
using Strata.Native;
using Strata.Storage;
using static Strata.Native.Libc;

namespace Strata.Union;

/// <summary>The kernel's overlayfs: lowers by their short links under overlay/l, so deep stacks fit one page of options.</summary>
internal sealed class KernelOverlayMounter(string layersHome) : IUnionMounter
{
    public void Mount(string target, IReadOnlyList<LayerInfo> stack, string? upper, string? work) => MountOverlay(target, stack, upper, work);

    public void Unmount(string target)
    {
        // Detach, so copies of the mount in other namespaces do not keep it busy (moby's overlay2 does the same).
        if (Umount2(target, MNT_DETACH) != 0) throw new ErrnoException(LastErrno, "umount", target);
    }

    private void MountOverlay(string target, IReadOnlyList<LayerInfo> stack, string? upper, string? work)
    {
        // Lowers by their short links, relative to overlay/ as the working directory: 128 layers fit one page.
        var lowers = Enumerable.Reverse(stack).Select(l => "l/" + l.Link).ToList();
        if (lowers.Count == 0 || (upper is null && lowers.Count == 1)) lowers.Add("empty"); // overlayfs wants two lowers without an upper
        var data = "lowerdir=" + string.Join(':', lowers) + (upper is null ? "" : $",upperdir={upper},workdir={work}") + ",index=off";
        if (data.Length >= 4000)
        {
            MountDeep(target, lowers, upper, work);
            return;
        }
        var cwd = Environment.CurrentDirectory;
        Environment.CurrentDirectory = layersHome;
        try
        {
            if (Libc.Mount("overlay", target, "overlay", upper is null ? MS_RDONLY : 0, data) != 0) throw MountError(LastErrno, target);
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
        }
    }

    /// <summary>A stack deeper than one page of options: one fsconfig("lowerdir+") per layer (kernel 6.8+), up to overlayfs's 500.</summary>
    private void MountDeep(string target, List<string> lowers, string? upper, string? work)
    {
        int fs = FsOpen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0) throw MountError(LastErrno, target);
        int mnt = -1;
        try
        {
            void Set(string key, string? value)
            {
                int rc = value is null ? FsConfig(fs, FSCONFIG_SET_FLAG, key, null, 0) : FsConfig(fs, FSCONFIG_SET_STRING, key, value, 0);
                if (rc != 0)
                {
                    int errno = LastErrno;
                    throw errno == Errno.EINVAL && key == "lowerdir+"
                        ? new StrataException(ErrorKind.Unsupported, $"{lowers.Count} layers need overlayfs \"lowerdir+\" (Linux 6.8) or fewer layers")
                        : new ErrnoException(errno, $"fsconfig {key}", target);
                }
            }
            foreach (var l in lowers) Set("lowerdir+", Path.Combine(layersHome, l));
            if (upper is not null)
            {
                Set("upperdir", upper);
                Set("workdir", work);
            }
            Set("index", "off");
            if (FsConfig(fs, FSCONFIG_CMD_CREATE, null, null, 0) != 0) throw MountError(LastErrno, target);
            mnt = FsMount(fs, FSMOUNT_CLOEXEC, upper is null ? MOUNT_ATTR_RDONLY : 0);
            if (mnt < 0) throw MountError(LastErrno, target);
            if (MoveMount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) throw MountError(LastErrno, target);
        }
        finally
        {
            if (mnt >= 0) Close(mnt);
            Close(fs);
        }
    }

    private static StrataException MountError(int errno, string target) => errno is Errno.EPERM or Errno.EACCES
        ? new StrataException(ErrorKind.PermissionDenied, "mounting overlayfs needs root (CAP_SYS_ADMIN)")
        : new ErrnoException(errno, "mount overlay on", target);
}
