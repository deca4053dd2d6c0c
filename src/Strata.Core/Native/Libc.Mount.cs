using System.Runtime.InteropServices;

namespace Strata.Native;

/// <summary>mount(2) and umount2(2), for the kernel's overlayfs.</summary>
internal static partial class Libc
{
    public const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_REMOUNT = 32, MS_BIND = 4096, MS_REC = 16384;
    public const int MNT_DETACH = 2;

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string fstype, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    // The new mount API (Linux 5.2; "lowerdir+" for overlayfs since 6.8, layers as O_PATH fds since 6.15): each layer is its
    // own parameter, so a deep stack is not bound by the one page of mount(2) options.
    public const uint FSOPEN_CLOEXEC = 1, FSMOUNT_CLOEXEC = 1, MOUNT_ATTR_RDONLY = 1, MOVE_MOUNT_F_EMPTY_PATH = 4;
    public const uint FSCONFIG_SET_STRING = 1, FSCONFIG_SET_FD = 5, FSCONFIG_CMD_CREATE = 6;

    [LibraryImport("libc", EntryPoint = "fsopen", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FsOpen(string fsname, uint flags);

    [LibraryImport("libc", EntryPoint = "fsconfig", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FsConfig(int fd, uint cmd, string? key, string? value, int aux);

    [LibraryImport("libc", EntryPoint = "fsmount", SetLastError = true)]
    public static partial int FsMount(int fd, uint flags, uint attrFlags);

    [LibraryImport("libc", EntryPoint = "move_mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MoveMount(int fromDirfd, string fromPath, int toDirfd, string toPath, uint flags);

    /// <summary>Whether a path is a mount point now (the kernel's view, not a count that a reboot made stale).</summary>
    public static bool IsMountPoint(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd('/');
        foreach (var line in UnlockedFile.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4 && Unescape(fields[4]) == full) return true;
        }
        return false;
    }

    private static string Unescape(string s) =>
        s.Contains('\\', StringComparison.Ordinal) ? s.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal).Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal) : s;
}
