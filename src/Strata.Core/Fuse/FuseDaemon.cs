using System.Diagnostics;
using Strata.Errors;

namespace Strata.Fuse;

/// <summary>
/// Starts a union mount served by a background strata process (the binary in its strata-overlay role), and
/// returns once the mount is up, as fuse-overlayfs does: the mount outlives the command that made it.
/// </summary>
internal static class FuseDaemon
{
    /// <summary>Marks the serving child: it reports "ready" on stderr, then detaches.</summary>
    public const string ChildFlag = "--strata-overlay-child";

    /// <summary>
    /// The strata executable: the one given, else this process when it is strata (or dotnet running strata.dll),
    /// else strata on the PATH.
    /// </summary>
    public static (string File, string[] Prefix) Executable(string? program)
    {
        if (program is not null) return (program, []);
        var self = Environment.ProcessPath;
        var name = self is null ? "" : Path.GetFileNameWithoutExtension(self);
        if (name is "strata" or "strata-overlay") return (self!, []);
        var strataDll = Path.Combine(AppContext.BaseDirectory, "strata.dll");
        if (name == "dotnet" && File.Exists(strataDll)) return (self!, [strataDll]);
        return ("strata", []);
    }

    /// <param name="program">The strata executable to serve the mount (null: see <see cref="Executable"/>).</param>
    /// <param name="overlayArgs">strata-overlay's command line (options and mount point).</param>
    /// <param name="mountPoint">Where the mount appears.</param>
    public static void Start(string? program, IReadOnlyList<string> overlayArgs, string mountPoint)
    {
        var (file, prefix) = Executable(program);
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in prefix.Append("overlay-mount").Concat(overlayArgs).Append(ChildFlag)) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new StrataException(ErrorKind.Internal, $"could not start {file}");
        var line = process.StandardError.ReadLineAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (line.IsCompleted && line.Result == "ready" && FuseOverlay.IsMounted(mountPoint)) return;
            if (process.HasExited)
            {
                var message = line.IsCompleted && line.Result is { Length: > 0 } l ? l : $"the serving process ended with code {process.ExitCode}";
                throw new StrataException(ErrorKind.Internal, message.StartsWith("strata-overlay: ", StringComparison.Ordinal) ? message["strata-overlay: ".Length..] : message);
            }
            Thread.Sleep(5);
        }
        try { process.Kill(); } catch (InvalidOperationException) { }
        throw new StrataException(ErrorKind.Internal, $"{mountPoint} was not mounted within 15 s");
    }
}
