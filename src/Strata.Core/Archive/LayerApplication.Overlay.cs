using Strata.Archive.Tar;
using Strata.Errors;
using static Strata.Native.Libc;

namespace Strata.Archive;

/// <summary>Overlay mode: whiteouts and opaque markers become what the kernel's overlayfs reads.</summary>
internal sealed partial class LayerApplication
{
    public const string OpaqueXattr = "trusted.overlay.opaque";

    private void ApplyOverlayWhiteout(TarEntry entry, string dir, string name)
    {
        if (name == LayerPaths.OpaqueMarker)
        {
            ResolveDirectory(dir, create: true);
            MarkOpaque(dir);
            return;
        }
        if (name.StartsWith(LayerPaths.MetaPrefix, StringComparison.Ordinal)) return;
        var target = name[LayerPaths.WhiteoutPrefix.Length..];
        if (target is "" or "." or "..")
            throw StrataException.Invalid($"layer entry \"{LayerPaths.Trim(entry.Name)}\": invalid whiteout");
        var full = LayerPaths.Join(dir, target);
        // Hides lower layers only: what this layer wrote stays; inside an opaque directory nothing lower shows anyway (row 30).
        if (_created.Contains(full) || _touched.Contains(full) || _opaque.Contains(dir)) return;
        int parent = ResolveDirectory(dir, create: true);
        if (TryLstatAt(parent, target, out _)) return;
        Check(MknodAt(parent, target, S_IFCHR, 0), "mknod whiteout", full);
        _whiteouts.Add(full);
    }

    /// <summary>
    /// An implied directory (made only as a parent) copies owner, mode and mtime from the topmost lower layer
    /// that has it; found by plain paths, as lower layers are Strata's own committed directories.
    /// </summary>
    private void CopyLowerAttributes(string path)
    {
        foreach (var lower in _options.LowerDirectories)
        {
            var full = path.Length == 0 ? lower : Path.Combine(lower, path);
            if (!TryLstatAt(AT_FDCWD, full, out var st)) continue;
            if (!st.IsDirectory) return;
            var (dir, name) = path.Length == 0 ? ("", "") : LayerPaths.Split(path);
            int parent = path.Length == 0 ? AT_FDCWD : ResolveDirectory(dir, create: false);
            var at = path.Length == 0 ? _root : name;
            if (_options.PreserveOwnership) Check(FchownAt(parent, at, (int)st.Uid, (int)st.Gid, AT_SYMLINK_NOFOLLOW), "chown", path);
            Check(FchmodAt(parent, at, (uint)st.Mode & 0xfff, 0), "chmod", path);
            _keptTimes[path] = (st.Mtime.Seconds, (int)st.Mtime.Nanoseconds);
            return;
        }
    }

    /// <summary>Sets the opaque xattr and drops the whiteouts this layer put inside: they would show as ghosts.</summary>
    private void MarkOpaque(string dir)
    {
        if (!_opaque.Add(dir)) return;
        int fd = ResolveDirectory(dir, create: true);
        SetXattr($"/proc/self/fd/{fd}/.", OpaqueXattr, "y"u8); // "/." so the magic link itself is not the target
        foreach (var w in _whiteouts.Where(w => LayerPaths.Split(w).Dir == dir).ToList())
        {
            Check(UnlinkAt(fd, LayerPaths.Split(w).Base, 0), "unlink whiteout", w);
            _whiteouts.Remove(w);
        }
    }
}
