using Microsoft.Extensions.Logging;

namespace Strata.Fuse;

/// <summary>
/// strata-overlay: Strata's FUSE union behind fuse-overlayfs's command line (<c>-o lowerdir=...,upperdir=...,workdir=...
/// [-f] [SOURCE] MOUNTPOINT</c>), so podman and buildah can use it as <c>overlay.mount_program</c>. As fuse-overlayfs, it
/// returns once the mount is up and serves it from a background process until unmounted; with <c>-f</c> it serves in
/// this process.
/// </summary>
public static class OverlayMountProgram
{
    /// <summary>Mounts as the command line says; failures are <see cref="Errors.StrataException"/>.</summary>
    /// <param name="args">fuse-overlayfs's arguments.</param>
    /// <param name="onReadyAsDaemon">In the background process, called once the mount is up (it tells the starter, then
    /// the process lets go of its standard streams).</param>
    /// <param name="log">Where the serving session tells of failed requests.</param>
    /// <param name="logRequestCounts">At unmount, log how many requests of each kind came.</param>
    public static void Run(IReadOnlyList<string> args, Action? onReadyAsDaemon = null, ILogger? log = null, bool logRequestCounts = false)
    {
        ArgumentNullException.ThrowIfNull(args);
        var child = args.Contains(FuseDaemon.ChildFlag);
        var options = OverlayMountOptions.Parse(args.Where(a => a != FuseDaemon.ChildFlag).ToList());
        if (options.Foreground || child) FuseOverlay.Serve(options, child ? onReadyAsDaemon : null, detach: child, log, logRequestCounts);
        else FuseDaemon.Start(null, args, options.MountPoint);
    }
}
