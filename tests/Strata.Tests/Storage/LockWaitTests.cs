using System.Diagnostics;
using Strata.Errors;
using Strata.Native;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Storage;

/// <summary>A wait for another process's flock (the store lock, a partial download) is bounded and says so.</summary>
public class LockWaitTests
{
    [Fact]
    public void AWaitForAHeldLockEndsWithOneLineAfterItsBound()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("store.lock");
        File.WriteAllText(path, "");
        using var mine = Libc.OpenForLocking(path, create: false);
        using (FlockHolder.Hold(path, exclusive: true))
        {
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<StrataException>(() => Libc.Lock(mine, exclusive: false, wait: true, "the store", bound: TimeSpan.FromSeconds(1)));
            Assert.Equal(ErrorKind.Conflict, e.Kind);
            Assert.Equal("another strata process holds the store; waited 1 s", e.Message);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));

            // A holder that shows progress is waited for past the bound; once it stops, the bound runs out again.
            long work = 0;
            clock.Restart();
            e = Assert.Throws<StrataException>(() => Libc.Lock(mine, exclusive: true, wait: true, "a download",
                () => clock.Elapsed < TimeSpan.FromSeconds(2) ? ++work : work, TimeSpan.FromSeconds(1)));
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.5), $"gave up after {clock.Elapsed} though the holder was busy");
            Assert.Contains("made no progress", e.Message, StringComparison.Ordinal);
        }
        Assert.True(Libc.Lock(mine, exclusive: true, wait: true, "the store", bound: TimeSpan.FromSeconds(1)));
    }
}
