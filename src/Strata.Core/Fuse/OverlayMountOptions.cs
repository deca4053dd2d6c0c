using Strata.Errors;

namespace Strata.Fuse;

/// <summary>
/// fuse-overlayfs's command line, as podman and mount.fuse3 give it: <c>[-f] [-d] -o lowerdir=L1:L2,upperdir=U,workdir=W
/// [SOURCE] MOUNTPOINT</c>, options also as <c>-oOPTS</c>; options it does not act on (fsync=0, noatime, rw, dev,
/// squash_to_uid...) are accepted and ignored, as fuse-overlayfs ignores what it does not know.
/// </summary>
internal sealed record OverlayMountOptions(IReadOnlyList<string> LowersTopFirst, string? Upper, string? Work, string MountPoint, string Source, bool Foreground)
{
    /// <summary>log=PATH (Strata's own): the daemon's error lines go there instead of nowhere.</summary>
    public string? LogPath { get; init; }

    /// <summary>
    /// userxattr (the kernel overlayfs option's name): overlay's markers in user.overlay.* instead of trusted.overlay.*.
    /// On by default without root of the machine (in a user namespace too), which cannot write trusted.*.
    /// </summary>
    public bool UserXattrs { get; init; }

    /// <summary>
    /// xattr_permissions=2 (fuse-overlayfs's name): the rootless layer form, owners, modes and devices kept in
    /// user.containers.override_stat (docs/store.md). On by default without root, which cannot chown.
    /// </summary>
    public bool OwnersInXattrs { get; init; }

    /// <summary>
    /// nopassthrough (Strata's own): every read and write goes through the daemon, as on a mount without root, where
    /// the kernel's FUSE passthrough is not offered. For comparisons, and for layers on a stacked file system.
    /// </summary>
    public bool Passthrough { get; init; } = true;

    /// <summary>fuse-overlayfs's command line: -o lowerdir=...,upperdir=...,workdir=...[,options] [-f] [SOURCE] MOUNTPOINT.</summary>
    public static OverlayMountOptions Parse(IReadOnlyList<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var positional = new List<string>();
        bool foreground = false;
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "-o")
            {
                if (++i >= args.Count) throw StrataException.BadArgument("-o needs options");
                Add(options, args[i]);
            }
            else if (a.StartsWith("-o", StringComparison.Ordinal)) Add(options, a[2..]);
            else if (a is "-f" or "-d" or "--debug") foreground = true;
            else if (a.StartsWith('-')) continue; // -s, -n and the like: nothing to do here
            else positional.Add(a);
        }
        if (positional.Count is 0 or > 2) throw StrataException.BadArgument("usage: strata-overlay -o lowerdir=L1:L2[,upperdir=U,workdir=W] [SOURCE] MOUNTPOINT");
        if (!options.TryGetValue("lowerdir", out var lower) || lower.Length == 0) throw StrataException.BadArgument("strata-overlay: no lowerdir given");
        var upper = options.GetValueOrDefault("upperdir");
        var work = options.GetValueOrDefault("workdir");
        if (upper is not null && work is null) throw StrataException.BadArgument("strata-overlay: upperdir needs a workdir");
        var lowers = lower.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFullPath).ToList();
        foreach (var dir in lowers.Append(upper).Append(work))
            if (dir is not null && !Directory.Exists(dir)) throw StrataException.NotFound($"strata-overlay: {dir} is not a directory");
        bool owners = options.GetValueOrDefault("xattr_permissions") == "2" || !FuseMount.Privileged;
        return new OverlayMountOptions(lowers, upper is null ? null : Path.GetFullPath(upper), work is null ? null : Path.GetFullPath(work),
            Path.GetFullPath(positional[^1]), positional.Count == 2 ? positional[0] : "strata-overlay", foreground)
        {
            LogPath = options.GetValueOrDefault("log") is { Length: > 0 } log ? Path.GetFullPath(log) : null,
            OwnersInXattrs = owners,
            UserXattrs = owners || options.ContainsKey("userxattr") || !FuseMount.RootOfMachine,
            Passthrough = !options.ContainsKey("nopassthrough"),
        };
    }

    private static void Add(Dictionary<string, string> options, string list)
    {
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            options[eq < 0 ? part : part[..eq]] = eq < 0 ? "" : part[(eq + 1)..];
        }
    }
}
