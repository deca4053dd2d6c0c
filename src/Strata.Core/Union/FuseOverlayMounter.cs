using System.Security.Cryptography;
using System.Text;
using Strata.Fuse;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// Strata's FUSE union on the same overlay-form directories the kernel mounts: one strata-overlay daemon per
/// mount, its log in the store's logs/ directory. Works without root (through fusermount3).
/// </summary>
internal sealed class FuseOverlayMounter(string layersHome, string logsHome, bool userXattrs, string? program = null) : IUnionMounter
{
    public void Mount(string target, IReadOnlyList<LayerInfo> stack, string? upper, string? work)
    {
        Directory.CreateDirectory(logsHome);
        var lowers = Enumerable.Reverse(stack).Select(l => LayerStore.DiffDirOf(layersHome, l.Dir)).ToList();
        if (lowers.Count == 0) lowers.Add(Path.Combine(layersHome, "empty"));
        var options = "lowerdir=" + string.Join(':', lowers) + (upper is null ? "" : $",upperdir={upper},workdir={work}") + $",log={LogOf(target)}"
            + (userXattrs ? ",xattr_permissions=2" : ""); // the rootless form (markers in user.* with it)
        FuseDaemon.Start(program, ["-o", options, "strata", target], target);
    }

    public void Unmount(string target) => FuseMount.Unmount(target);

    /// <summary>Where the daemon serving target writes its errors (one line each).</summary>
    public string LogOf(string target) =>
        Path.Combine(logsHome, "fuse-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(target)))[..16] + ".log");
}
