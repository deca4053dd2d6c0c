using System.Diagnostics;
using Strata.Native;

namespace Strata.Tests.Infrastructure;

/// <summary>Another process (flock(1)) holding an flock on a file until disposed; made once the lock is held.</summary>
public sealed class FlockHolder : IDisposable
{
    private readonly Process _process;

    private FlockHolder(Process process) => _process = process;

    public static FlockHolder Hold(string path, bool exclusive)
    {
        var p = Process.Start(new ProcessStartInfo("flock", [exclusive ? "-x" : "-s", path, "sleep", "120"]))!;
        using var probe = Libc.OpenForLocking(path, create: false, FileAccess.Read);
        var deadline = Stopwatch.StartNew();
        while (Libc.Lock(probe, exclusive: true, wait: false, path))
        {
            Libc.Unlock(probe);
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"flock(1) did not lock {path} in 30 s");
            Assert.False(p.HasExited, $"flock(1) exited {(p.HasExited ? p.ExitCode : 0)}");
            Thread.Sleep(20);
        }
        return new FlockHolder(p);
    }

    public void Dispose()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}
