using Strata.Errors;
using Strata.Fuse;

namespace Strata.Cli;

/// <summary>
/// strata-overlay: Strata's FUSE union file system behind fuse-overlayfs's command line, so podman and buildah
/// can use it as <c>overlay.mount_program</c>, and <c>mount -t fuse.strata-overlay</c> works through mount.fuse3.
/// As fuse-overlayfs, it returns once the mount is up and serves it from a background process until unmounted.
/// </summary>
public static class OverlayProgram
{
    public static bool IsInvokedAs(string[] args) =>
        Path.GetFileName(Environment.GetCommandLineArgs()[0]) is "strata-overlay" || args is ["overlay-mount", ..];

    public static int Run(string[] args)
    {
        if (args is ["overlay-mount", .. var rest]) args = rest;
        try
        {
            // The daemon tells its starter through stderr, then lets go of the starter's pipes: whoever ran the mount
            // (podman reads until EOF) must not wait on it.
            OverlayMountProgram.Run(args, () => { Console.Error.WriteLine("ready"); Console.Error.Flush(); },
                new Output.StderrLog("strata-fuse"), logRequestCounts: Environment.GetEnvironmentVariable("STRATA_FUSE_STATS") is not null);
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"strata-overlay: {(e is StrataException ? e.Message : e.ToString())}");
            return e is StrataException s ? ExitCodes.For(s.Kind) : 1;
        }
    }
}
