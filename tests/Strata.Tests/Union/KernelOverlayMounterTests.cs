using Strata.Errors;
using Strata.Native;
using Strata.Tests.Infrastructure;
using Strata.Snapshots;
using Strata.Union;

namespace Strata.Tests.Union;

/// <summary>
/// The kernel overlay mounter, both ways (the new mount API and the mount(2) of kernels before 6.8): the union it
/// makes, and that it leaves the process's current directory alone, even while it mounts (another thread's
/// relative paths depend on it).
/// </summary>
public class KernelOverlayMounterTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MountsWithoutChangingTheCurrentDirectory(bool mountApi)
    {
        Requires.Overlay();
        using var tmp = new TempDir("kernel-mounter");
        var stack = Layers(tmp, 3);
        string upper = tmp.CreateDirectory("upper"), work = tmp.CreateDirectory("work"), rw = tmp.CreateDirectory("rw"), ro = tmp.CreateDirectory("ro"),
            one = tmp.CreateDirectory("one");
        var mounter = new KernelOverlayMounter { UseMountApi = mountApi };
        var cwd = Environment.CurrentDirectory;
        // Another thread samples the current directory meanwhile: a chdir around a mount shows in most runs.
        string? other = null;
        using var watching = new ManualResetEventSlim();
        bool done = false;
        var watcher = new Thread(() =>
        {
            watching.Set();
            while (!Volatile.Read(ref done) && other is null)
                if (Environment.CurrentDirectory is var now && now != cwd) other = now;
        });
        watcher.Start();
        watching.Wait(TestContext.Current.CancellationToken);
        try
        {
            for (int i = 0; i < 100; i++)
            {
                mounter.Mount(rw, [MountSpec.Overlay(stack, upper, work)]);
                mounter.Mount(ro, [MountSpec.Overlay(stack)]);
                mounter.Mount(one, [MountSpec.Overlay([stack[^1], tmp.Combine("home", "empty")])]); // read-only over one layer: "empty" is the second lower
                Assert.Equal("layer 2", File.ReadAllText(Path.Combine(rw, "shared")));
                Assert.Equal("layer 0", File.ReadAllText(Path.Combine(ro, "only0")));
                Assert.Equal("layer 0", File.ReadAllText(Path.Combine(one, "shared")));
                File.WriteAllText(Path.Combine(rw, "new"), "upper");
                Assert.Throws<IOException>(() => File.WriteAllText(Path.Combine(ro, "new"), "no")); // EROFS
                mounter.Unmount(rw);
                mounter.Unmount(ro);
                mounter.Unmount(one);
            }
        }
        finally
        {
            Volatile.Write(ref done, true);
            watcher.Join();
        }
        Assert.Equal("upper", File.ReadAllText(Path.Combine(upper, "new")));
        Assert.Equal(cwd, Environment.CurrentDirectory);
        Assert.Null(other);
    }

    [Fact]
    public void DeepStacksNeedTheMountApi()
    {
        Requires.Overlay();
        using var tmp = new TempDir("kernel-mounter-deep");
        var stack = Layers(tmp, 150);
        string merged = tmp.CreateDirectory("merged");
        new KernelOverlayMounter().Mount(merged, [MountSpec.Overlay(stack)]);
        try
        {
            Assert.Equal("layer 149", File.ReadAllText(Path.Combine(merged, "shared")));
        }
        finally
        {
            Libc.Umount2(merged, Libc.MNT_DETACH);
        }
        // mount(2) takes one page of options: some 85 layers by their links through /proc/self/fd.
        var e = Assert.Throws<StrataException>(() => new KernelOverlayMounter { UseMountApi = false }.Mount(merged, [MountSpec.Overlay(stack)]));
        Assert.Equal(ErrorKind.Unsupported, e.Kind);
        Assert.Contains("150 layers need overlayfs \"lowerdir+\"", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A layers' home as the overlay snapshotter keeps it (diff directories, short links under l/, "empty"): the links, top first.</summary>
    private static List<string> Layers(TempDir tmp, int count)
    {
        var home = tmp.CreateDirectory("home");
        Directory.CreateDirectory(Path.Combine(home, "l"));
        Directory.CreateDirectory(Path.Combine(home, "empty"));
        var stack = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var diff = Directory.CreateDirectory(Path.Combine(home, $"layer{i}", "diff")).FullName;
            File.WriteAllText(Path.Combine(diff, "shared"), $"layer {i}");
            File.WriteAllText(Path.Combine(diff, $"only{i}"), $"layer {i}");
            var link = $"LINK{i:D22}";
            File.CreateSymbolicLink(Path.Combine(home, "l", link), $"../layer{i}/diff");
            stack.Insert(0, Path.Combine(home, "l", link));
        }
        return stack;
    }
}
