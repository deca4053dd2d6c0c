using System.Diagnostics;
using Strata.Fuse;
using Strata.Native;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Fuse;

/// <summary>
/// Ending an in-process FUSE session is bounded: a copy of the mount in another mount namespace (a rootless podman
/// pause process makes one) keeps the connection alive after the lazy unmount, and used to keep Dispose waiting forever.
/// </summary>
[Collection(MountNamespaceCollection.Name)]
public class FuseSessionLifetimeTests
{
    [Fact(Timeout = 90_000)]
    public async Task DisposeReturnsWhileAnotherMountNamespaceHoldsACopy()
    {
        Requires.Root();
        Requires.Fuse();
        Requires.Tool("unshare");
        Requires.Tool("nsenter");
        var cancel = TestContext.Current.CancellationToken;
        using var tmp = new TempDir();
        string lower = tmp.CreateDirectory("lower"), merged = tmp.CreateDirectory("merged");
        File.WriteAllText(Path.Combine(lower, "f"), "x");
        var session = FuseSession.Mount(new UnionFileSystem(null, null, [lower]), merged, "strata-lifetime");
        var psi = new ProcessStartInfo("unshare", ["--mount", "--propagation", "private", "sleep", "300"]);
        using var holder = Process.Start(psi)!;
        try
        {
            // Wait until the holder runs in its own mount namespace, with its copy of the mount.
            var ours = new FileInfo("/proc/self/ns/mnt").LinkTarget;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline && (holder.HasExited || new FileInfo($"/proc/{holder.Id}/ns/mnt").LinkTarget == ours))
                await Task.Delay(20, cancel);
            Assert.NotEqual(ours, new FileInfo($"/proc/{holder.Id}/ns/mnt").LinkTarget);
            Assert.Contains(merged, File.ReadAllText($"/proc/{holder.Id}/mountinfo"), StringComparison.Ordinal);

            var dispose = Task.Run(session.Dispose, cancel);
            bool ended = await Task.WhenAny(dispose, Task.Delay(TimeSpan.FromSeconds(30), cancel)) == dispose;
            Assert.True(ended, "Dispose was still waiting 30 s after the unmount while another mount namespace held a copy");
            await dispose;
            Assert.False(Libc.IsMountPoint(merged));
            // The copy was cut off (the connection aborted), not left hanging: its calls fail at once.
            var copy = Tool.Run(new ToolCall("nsenter", ["-t", holder.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", "--", "cat", Path.Combine(merged, "f")]) { Check = false, Timeout = TimeSpan.FromSeconds(20) });
            Assert.NotEqual(0, copy.ExitCode);
        }
        finally
        {
            holder.Kill();
            await holder.WaitForExitAsync(CancellationToken.None);
            session.Dispose(); // (a no-op once disposed; ends the session if an assertion came first)
        }
    }
}
