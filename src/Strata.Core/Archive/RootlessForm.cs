using System.Globalization;
using System.Text;
using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.Archive;

/// <summary>
/// The overlay layer form a user without privilege can write. What such a user cannot give a file itself is kept
/// in user.* xattrs: owner, mode and device type in <c>user.containers.override_stat</c> ("UID:GID:0PERM:TYPE",
/// containers/storage's convention, read by fuse-overlayfs with xattr_permissions=2), opaque directories in
/// <c>user.overlay.opaque</c> (overlayfs's userxattr), and xattrs of other namespaces (security.capability) under
/// <c>user.strata.xattr.</c>. A file without an override belongs to root with its own mode: the user is root
/// of its store, as in its own user namespace. Whiteouts stay char 0/0 (unprivileged since Linux 5.8).
/// </summary>
internal static class RootlessForm
{
    public readonly record struct Attributes(uint Uid, uint Gid, uint Mode, uint Major, uint Minor);

    /// <summary>The mode a file really gets: its permissions, always readable and writable (and a directory searchable) by its owner.</summary>
    public static uint RealPermissions(uint type, uint mode) => (mode & 0x1ff) | (type == S_IFDIR ? 0x1c0u : 0x180u);

    /// <summary>Whether the file's real attributes would tell the wrong story without an override.</summary>
    public static bool NeedsOverride(Attributes a, uint realType) =>
        a.Uid != 0 || a.Gid != 0 || (a.Mode & S_IFMT) != realType || (a.Mode & 0xfff) != RealPermissions(realType, a.Mode);

    public static byte[] Format(Attributes a)
    {
        var type = (a.Mode & S_IFMT) switch
        {
            S_IFDIR => "dir",
            S_IFLNK => "symlink",
            S_IFIFO => "pipe",
            S_IFSOCK => "socket",
            S_IFCHR => $"char-{a.Major}-{a.Minor}",
            S_IFBLK => $"block-{a.Major}-{a.Minor}",
            _ => "file",
        };
        return Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{a.Uid}:{a.Gid}:0{Convert.ToString(a.Mode & 0xfff, 8)}:{type}"));
    }

    /// <summary>Parses "UID:GID:0PERM[:TYPE]"; without TYPE the mode may carry the type bits, else the real type stays.</summary>
    public static Attributes? Parse(ReadOnlySpan<byte> value, uint realType)
    {
        var parts = Encoding.ASCII.GetString(value).TrimEnd('\0').Split(':');
        if (parts.Length is < 3 or > 4
            || !uint.TryParse(parts[0], CultureInfo.InvariantCulture, out var uid)
            || !uint.TryParse(parts[1], CultureInfo.InvariantCulture, out var gid)) return null;
        uint mode;
        try { mode = Convert.ToUInt32(parts[2], 8); }
        catch (FormatException) { return null; }
        catch (OverflowException) { return null; }
        uint type = (mode & S_IFMT) != 0 ? mode & S_IFMT : realType;
        uint major = 0, minor = 0;
        if (parts.Length == 4)
        {
            var t = parts[3].Split('-');
            type = t[0] switch
            {
                "dir" => S_IFDIR, "symlink" => S_IFLNK, "pipe" => S_IFIFO, "socket" => S_IFSOCK, "file" => S_IFREG,
                "char" => S_IFCHR, "block" => S_IFBLK, _ => realType,
            };
            if (t.Length == 3 && (type is S_IFCHR or S_IFBLK)
                && (!uint.TryParse(t[1], CultureInfo.InvariantCulture, out major) || !uint.TryParse(t[2], CultureInfo.InvariantCulture, out minor))) return null;
        }
        return new Attributes(uid, gid, type | (mode & 0xfff), major, minor);
    }

    /// <summary>A rootless-form file's stat as it is meant: owner, mode and device from its override, else root's.</summary>
    public static Statx Present(string path, Statx st)
    {
        st.Uid = 0;
        st.Gid = 0;
        if (st.IsSymlink) return st; // no user.* xattrs on symlinks
        if (GetXattr(path, OverlayFormat.OverrideStat) is { } raw && Parse(raw, st.Type) is { } a)
        {
            st.Uid = a.Uid;
            st.Gid = a.Gid;
            st.Mode = (ushort)a.Mode;
            st.RdevMajor = a.Major;
            st.RdevMinor = a.Minor;
            if ((a.Mode & S_IFMT) is S_IFCHR or S_IFBLK) st.Size = 0;
        }
        return st;
    }

    /// <summary>The name an xattr is kept under: user.* as is, any other namespace moved under user.strata.xattr.</summary>
    public static string StoredName(string name) => name.StartsWith("user.", StringComparison.Ordinal) ? name : OverlayFormat.ForeignPrefix + name;

    /// <summary>The name a kept xattr is shown under; null for the form's own markers.</summary>
    public static string? PresentedName(string stored) =>
        stored.StartsWith(OverlayFormat.ForeignPrefix, StringComparison.Ordinal) ? stored[OverlayFormat.ForeignPrefix.Length..]
        : OverlayFormat.IsFormXattr(stored) ? null
        : stored;
}
