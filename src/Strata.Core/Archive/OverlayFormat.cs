using static Strata.Native.Libc;

namespace Strata.Archive;

/// <summary>
/// Overlay's on-disk format, said once for the applier, the differs, the managed view and the FUSE union.
/// In a layer tar: <c>.wh.NAME</c> deletes NAME, <c>.wh..wh..opq</c> empties its directory. In a layer directory:
/// a char 0/0 device is a whiteout, and <c>overlay.opaque=y</c> ends a merge, in trusted.* (the kernel's form) or
/// user.* (userxattr: rootless stores and user namespaces). fuse-overlayfs's form also keeps the tar's names as
/// files. The overlay.* and form xattrs are storage bookkeeping: never a file's content, never taken from a tar.
/// </summary>
internal static class OverlayFormat
{
    // ---------- names: in layer tars, and as files in fuse-overlayfs's form ----------

    public const string WhiteoutPrefix = ".wh.";
    public const string OpaqueMarker = ".wh..wh..opq";
    /// <summary>aufs-era metadata (.wh..wh.plnk and the like): not content.</summary>
    public const string MetaPrefix = ".wh..wh.";
    /// <summary>The opaque marker file older fuse-overlayfs versions wrote.</summary>
    public const string OldOpaqueMarker = ".wh..opq";

    public static bool IsWhiteoutName(string name) => name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal);

    public static bool IsMetaName(string name) => name.StartsWith(MetaPrefix, StringComparison.Ordinal);

    /// <summary>"a/.wh.b" for b in a; dir "" is the root.</summary>
    public static string WhiteoutName(string dir, string name) => (dir.Length == 0 ? "" : dir + "/") + WhiteoutPrefix + name;

    /// <summary>The name a whiteout name hides: ".wh.b" -> "b".</summary>
    public static string Hidden(string whiteoutName) => whiteoutName[WhiteoutPrefix.Length..];

    // ---------- whiteouts on disk ----------

    public static bool IsWhiteout(in Statx st) => st.Type == S_IFCHR && st.RdevMajor == 0 && st.RdevMinor == 0;

    /// <summary>mknod of a whiteout (unprivileged since Linux 5.8); 0 or -1 with errno, as mknodat.</summary>
    public static int MakeWhiteout(int dirFd, string path) => MknodAt(dirFd, path, S_IFCHR, 0);

    /// <summary>Whether a layer's directory holds a <c>.wh.NAME</c> file for NAME (fuse-overlayfs's form).</summary>
    public static bool HasWhiteoutFile(string dirFull, string name) =>
        TryLstatAt(AT_FDCWD, Path.Combine(dirFull, WhiteoutPrefix + name), out _);

    /// <summary>Whether a directory holds the opaque marker file (fuse-overlayfs's form); also the old one if asked.</summary>
    public static bool HasOpaqueFile(string dir, bool orOld = false) =>
        TryLstatAt(AT_FDCWD, Path.Combine(dir, OpaqueMarker), out _) || orOld && TryLstatAt(AT_FDCWD, Path.Combine(dir, OldOpaqueMarker), out _);

    // ---------- xattrs ----------

    public const string TrustedPrefix = "trusted.overlay.";
    public const string UserPrefix = "user.overlay.";
    public const string FuseOverlayfsPrefix = "user.fuseoverlayfs.";
    public const string TrustedOpaque = "trusted.overlay.opaque";
    public const string UserOpaque = "user.overlay.opaque";
    public const string FuseOverlayfsOpaque = "user.fuseoverlayfs.opaque";
    /// <summary>The kernel's other whiteout: an empty regular file carrying it (where mknod is refused).</summary>
    public const string TrustedWhiteout = "trusted.overlay.whiteout";
    /// <summary>Owner, mode and device type of a rootless-form file (<see cref="RootlessForm"/>).</summary>
    public const string OverrideStat = "user.containers.override_stat";
    /// <summary>Where the rootless form keeps xattrs of other namespaces.</summary>
    public const string ForeignPrefix = "user.strata.xattr.";

    /// <summary>The opaque xattr a store writes: user.* with user markers (rootless form, user namespaces), else trusted.*.</summary>
    public static string OpaqueXattr(bool userMarkers) => userMarkers ? UserOpaque : TrustedOpaque;

    /// <summary>Either form's opaque flag (each store writes one; a directory never carries the other).</summary>
    public static bool IsOpaque(string dir) => HasOpaqueXattr(ListXattrs(dir));

    /// <summary>An opaque flag among a directory's xattrs: either form's, and fuse-overlayfs's own when asked.</summary>
    public static bool HasOpaqueXattr(Dictionary<string, byte[]> xattrs, bool orFuseOverlayfs = false) =>
        IsYes(xattrs, TrustedOpaque) || IsYes(xattrs, UserOpaque) || orFuseOverlayfs && IsYes(xattrs, FuseOverlayfsOpaque);

    private static bool IsYes(Dictionary<string, byte[]> xattrs, string name) => xattrs.TryGetValue(name, out var v) && v is [(byte)'y', ..];

    /// <summary>overlay's own xattrs, either form: markers, never a file's content.</summary>
    public static bool IsOverlayXattr(string name) =>
        name.StartsWith(TrustedPrefix, StringComparison.Ordinal) || name.StartsWith(UserPrefix, StringComparison.Ordinal);

    /// <summary>xattrs that carry a form's meaning (overlay markers, overrides): never taken from a layer's tar.</summary>
    public static bool IsFormXattr(string name) =>
        name == OverrideStat || IsOverlayXattr(name) || name.StartsWith(ForeignPrefix, StringComparison.Ordinal);

    /// <summary>
    /// xattrs a union hides from its users and refuses to let them set: the rootless form's every form xattr; with
    /// user markers overlay's in both namespaces; else the kernel's trusted.overlay.* only.
    /// </summary>
    public static bool IsPrivateXattr(string name, bool userMarkers, bool rootless) =>
        rootless ? IsFormXattr(name)
        : name.StartsWith(TrustedPrefix, StringComparison.Ordinal) || userMarkers && name.StartsWith(UserPrefix, StringComparison.Ordinal);
}
