using Strata.Archive.Tar;
using Strata.Errors;
using static Strata.Native.Libc;

namespace Strata.Archive;

/// <summary>Overlay mode: whiteouts and opaque markers become what the kernel's overlayfs reads.</summary>
internal sealed partial class LayerApplication
{
    private UnionView? _lowerView;

    /// <summary>The merged lower layers, as overlayfs will show them under this one.</summary>
    private UnionView LowerView => _lowerView ??= new UnionView(_options.LowerDirectories);

    private void ApplyOverlayWhiteout(TarEntry entry, string dir, string name)
    {
        if (name == OverlayFormat.OpaqueMarker)
        {
            ResolveDirectory(dir, create: true);
            MarkOpaque(dir);
            return;
        }
        if (OverlayFormat.IsMetaName(name)) return;
        var target = OverlayFormat.Hidden(name);
        if (target is "" or "." or "..")
            throw StrataException.Invalid($"layer entry \"{LayerPaths.Trim(entry.Name)}\": invalid whiteout");
        var full = LayerPaths.Join(dir, target);
        // Hides lower layers only: what this layer wrote stays; inside an opaque directory nothing lower shows anyway (row 30).
        if (_created.Contains(full) || _touched.Contains(full) || _opaque.Contains(dir)) return;
        // A whiteout that hides nothing would show as a phantom name where overlayfs does not merge (rows 30, 69).
        if (LowerView.Lookup(full) is null) return;
        int parent = ResolveDirectory(dir, create: true);
        if (TryLstatAt(parent, target, out _)) return;
        Check(OverlayFormat.MakeWhiteout(parent, target), "mknod whiteout", full);
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
            // Through the lower layer's own directories only: a symlink there is not a directory to overlayfs.
            int lowerFd = Check(OpenAt(AT_FDCWD, lower, O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "open", lower);
            int fd = path.Length == 0 ? lowerFd : OpenAt2(lowerFd, path, (ulong)(O_PATH | O_NOFOLLOW | O_CLOEXEC), RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
            Statx st;
            try
            {
                if (fd < 0) continue;
                st = StatFd(fd);
            }
            finally
            {
                if (fd >= 0 && fd != lowerFd) Close(fd);
                Close(lowerFd);
            }
            if (!st.IsDirectory) return;
            var (dir, name) = path.Length == 0 ? ("", "") : LayerPaths.Split(path);
            int parent = path.Length == 0 ? AT_FDCWD : OpenPrivate(dir);
            try
            {
                var at = path.Length == 0 ? _root : name;
                if (_options.PreserveOwnership) Check(FchownAt(parent, at, (int)st.Uid, (int)st.Gid, AT_SYMLINK_NOFOLLOW), "chown", path);
                Check(FchmodAt(parent, at, (uint)st.Mode & 0xfff, 0), "chmod", path);
                if (_options.Rootless && GetXattr(Path.Combine(lower, path), OverlayFormat.OverrideStat) is { } over)
                    SetXattr(path.Length == 0 ? _root : $"/proc/self/fd/{parent}/{name}", OverlayFormat.OverrideStat, over);
            }
            finally
            {
                if (parent != AT_FDCWD && parent != _rootFd) Close(parent);
            }
            _keptTimes[path] = (st.Mtime.Seconds, (int)st.Mtime.Nanoseconds);
            return;
        }
    }

    /// <summary>Sets the opaque xattr and drops the whiteouts this layer put inside: they would show as ghosts.</summary>
    private void MarkOpaque(string dir)
    {
        if (!_opaque.Add(dir)) return;
        if (dir.Length == 0)
        {
            // overlayfs ignores an opaque flag on a layer's root: hide each lower root entry with its own whiteout.
            foreach (var name in LowerView.List("") ?? [])
                if (!_created.Contains(name) && !_touched.Contains(name) && !TryLstatAt(_rootFd, name, out _))
                {
                    Check(OverlayFormat.MakeWhiteout(_rootFd, name), "mknod whiteout", name);
                    _whiteouts.Add(name);
                }
            return;
        }
        int fd = OpenPrivate(dir); // callers made it
        try
        {
            SetXattr($"/proc/self/fd/{fd}/.", OverlayFormat.OpaqueXattr(_options.Rootless), "y"u8); // "/." so the magic link itself is not the target
            foreach (var w in _whiteouts.Where(w => LayerPaths.Split(w).Dir == dir).ToList())
            {
                Check(UnlinkAt(fd, LayerPaths.Split(w).Base, 0), "unlink whiteout", w);
                _whiteouts.Remove(w);
            }
        }
        finally
        {
            if (fd != _rootFd) Close(fd);
        }
    }

    /// <summary>An fd of a directory inside the root that the caller closes: the shared one-entry cache may hold its callers' fd.</summary>
    private int OpenPrivate(string dir) =>
        dir.Length == 0 ? _rootFd : Check(OpenAt2(_rootFd, dir, (ulong)(O_PATH | O_DIRECTORY | O_CLOEXEC), InRoot), "open", dir);
}
