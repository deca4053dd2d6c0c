using System.Security.Cryptography;
using System.Text;
using Strata.Errors;
using Strata.Fuse;
using Strata.Snapshots;

namespace Strata.Union;

/// <summary>
/// Strata's FUSE union on an overlay snapshot's directories, the same ones the kernel mounts: one strata-overlay
/// daemon per mount, its errors in the store's logs/ directory. Works without root (through fusermount3).
/// </summary>
internal sealed class FuseOverlayMounter(string logsHome, bool userXattrs, string? program = null) : IUnionMounter
{
    public void Mount(string target, IReadOnlyList<MountSpec> mounts)
    {
        if (mounts is not [{ Type: "overlay" } m])
            throw new StrataException(ErrorKind.Unsupported, "the fuse driver mounts overlay snapshots only");
        Directory.CreateDirectory(logsHome);
        // The daemon gets the layers' real directories: a link would cost it a lookup on every path it resolves.
        var lowers = m.LowerDirs.Select(SnapshotMounts.RealPath);
        var options = "lowerdir=" + string.Join(':', lowers)
            + (m.Option("upperdir") is { } upper ? $",upperdir={upper},workdir={m.Option("workdir")}" : "") + $",log={LogOf(target)}"
            + (userXattrs ? ",xattr_permissions=2" : ""); // the rootless form (markers in user.* with it)
        FuseDaemon.Start(program, ["-o", options, "strata", target], target);
    }

    public void Unmount(string target) => FuseMount.Unmount(target);

    /// <summary>Where the daemon serving target writes its errors (one line each).</summary>
    public string LogOf(string target) =>
        Path.Combine(logsHome, "fuse-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(target)))[..16] + ".log");
}
