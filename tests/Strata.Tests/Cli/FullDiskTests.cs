using System.Diagnostics;
using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>
/// A store on a small tmpfs that fills up: load, pull, commit and push fail at once with one line and the storage
/// exit code (10), leave no partial file or half-made image, and the same command works once space is freed.
/// </summary>
public class FullDiskTests
{
    private const int StorageExit = 10;
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(30);

    /// <summary>The failure is one line saying the disk is full, and nothing was left in ingest/.</summary>
    private static void AssertFullDiskFailure(CliResult r, string root, TimeSpan took)
    {
        Assert.True(r.ExitCode == StorageExit, $"exit {r.ExitCode}, not {StorageExit}: {r.Stderr}");
        var errors = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("strata: error:", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 1 && errors[0].Contains("no space left", StringComparison.Ordinal), r.Stderr);
        Assert.DoesNotContain("Retrying", r.Stderr, StringComparison.Ordinal);
        Assert.True(took < AtOnce, $"took {took}: a full disk must not be retried");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "ingest")));
        Assert.Empty(Directory.EnumerateDirectories(root, ".staging-*", SearchOption.AllDirectories));
    }

    private static (CliResult, TimeSpan) Timed(Func<CliResult> run)
    {
        var clock = Stopwatch.StartNew();
        var r = run();
        return (r, clock.Elapsed);
    }

    [Fact]
    public void LoadOnAFullDiskFailsCleanlyAndWorksOnceSpaceIsFreed()
    {
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 16 << 20);
        var root = Path.Combine(fs.Path, "store");
        StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("busybox").OciArchive).Ok();
        var blobs = Directory.GetFiles(Path.Combine(root, "blobs", "sha256")).Length;
        fs.Fill(leave: 256 << 10);

        var (failed, took) = Timed(() => StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("kitchensink").OciArchive));
        AssertFullDiskFailure(failed, root, took);
        Assert.Single(StrataCli.Run(root, "images", "-q").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(blobs, Directory.GetFiles(Path.Combine(root, "blobs", "sha256")).Length);

        fs.Free();
        var id = StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("kitchensink").OciArchive).Ok().Stdout.Trim();
        StrataCli.Run(root, "inspect", id).Ok();
    }

    [Fact]
    public async Task PullOnAFullDiskFailsAtOnceFreesItsPartialsAndWorksOnceSpaceIsFreed()
    {
        await using var registry = await RegistryServer.StartAsync();
        RegistryFixture.Seed(registry, "busybox", "full/busybox:1");
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 16 << 20);
        var root = Path.Combine(fs.Path, "store");
        var env = RegistryFixture.Env(tmp);
        StrataCli.Run(root, "--driver", "vfs", "images").Ok();
        fs.Fill(leave: 512 << 10);

        var reference = $"{registry.Host}/full/busybox:1";
        var (failed, took) = Timed(() => StrataCli.RunEnv(root, env, "pull", reference));
        AssertFullDiskFailure(failed, root, took);
        Assert.Equal("", StrataCli.Run(root, "images", "-q").Ok().Stdout.Trim());

        fs.Free();
        var id = RegistryFixture.Id(StrataCli.RunEnv(root, env, "pull", "-q", reference));
        StrataCli.Run(root, "inspect", id).Ok();
    }

    [Fact]
    public async Task APullOfLayersInParallelFreesEveryPartialWhenTheDiskFills()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        // busybox and two layers of 3 MiB noise each, downloaded side by side: when one meets the full disk, the other
        // is stopped part-way, and its partial must go too.
        var big = tmp.CreateDirectory("big");
        StrataCli.Run(big, "--driver", "vfs", "load", "-q", "-i", SampleImages.Get("busybox").DockerArchive).Ok();
        var image = "docker.io/strata-test/busybox:latest";
        foreach (var n in new[] { 1, 2 })
        {
            StrataCli.Run(big, "create", "--name", $"c{n}", image).Ok();
            var noise = new byte[3 << 20];
            Random.Shared.NextBytes(noise);
            File.WriteAllBytes(Path.Combine(StrataCli.Run(big, "mount", $"c{n}").Ok().Stdout.Trim(), $"noise{n}"), noise);
            StrataCli.Run(big, "umount", $"c{n}").Ok();
            image = $"localhost/noisy:{n}";
            StrataCli.Run(big, "commit", $"c{n}", image).Ok();
        }
        var reference = $"{registry.Host}/full/noisy:2";
        StrataCli.RunEnv(big, env, "push", image, reference).Ok();

        using var fs = new SmallFileSystem(tmp, 32 << 20);
        var root = Path.Combine(fs.Path, "store");
        StrataCli.Run(root, "--driver", "vfs", "images").Ok();
        fs.Fill(leave: 4 << 20);
        var (failed, took) = Timed(() => StrataCli.RunEnv(root, env, "pull", reference));
        AssertFullDiskFailure(failed, root, took);

        fs.Free();
        StrataCli.Run(root, "inspect", RegistryFixture.Id(StrataCli.RunEnv(root, env, "pull", "-q", reference))).Ok();
    }

    [Fact]
    public void CommitOnAFullDiskFailsCleanlyAndWorksOnceSpaceIsFreed()
    {
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 24 << 20);
        var root = Path.Combine(fs.Path, "store");
        StrataCli.Run(root, "--driver", "vfs", "load", "-q", "-i", SampleImages.Get("busybox").DockerArchive).Ok();
        StrataCli.Run(root, "create", "--name", "c", "docker.io/strata-test/busybox:latest").Ok();
        var merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
        var noise = new byte[2 << 20];
        Random.Shared.NextBytes(noise); // incompressible: the layer blob needs about as much room again
        File.WriteAllBytes(Path.Combine(merged, "noise"), noise);
        StrataCli.Run(root, "umount", "c").Ok();
        fs.Fill(leave: 512 << 10);

        var (failed, took) = Timed(() => StrataCli.Run(root, "commit", "c", "localhost/committed:1"));
        AssertFullDiskFailure(failed, root, took);
        Assert.Single(StrataCli.Run(root, "images", "-q").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        fs.Free();
        StrataCli.Run(root, "commit", "c", "localhost/committed:1").Ok();
        StrataCli.Run(root, "inspect", "localhost/committed:1").Ok();
    }

    [Fact]
    public async Task PushThatMustCompressOnAFullDiskFailsCleanlyAndWorksOnceSpaceIsFreed()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 16 << 20);
        var root = Path.Combine(fs.Path, "store");
        var env = RegistryFixture.Env(tmp);
        // A docker-archive's layers are stored uncompressed: a push gzips them into the store first.
        StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("busybox").DockerArchive).Ok();
        fs.Fill(leave: 256 << 10);

        var destination = $"{registry.Host}/full/pushed:1";
        var (failed, took) = Timed(() => StrataCli.RunEnv(root, env, "push", "docker.io/strata-test/busybox:latest", destination));
        AssertFullDiskFailure(failed, root, took);

        fs.Free();
        StrataCli.RunEnv(root, env, "push", "docker.io/strata-test/busybox:latest", destination).Ok();
        Tool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{destination}");
    }

    /// <summary>A vfs store on <paramref name="fs"/> with busybox, kitchensink and a container "c" of busybox.</summary>
    private static (string Root, string Kitchensink) TwoImagesAndAContainer(SmallFileSystem fs)
    {
        var root = Path.Combine(fs.Path, "store");
        StrataCli.Run(root, "--driver", "vfs", "load", "-q", "-i", SampleImages.Get("busybox").DockerArchive).Ok();
        var kitchensink = StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("kitchensink").OciArchive).Ok().Stdout.Trim();
        StrataCli.Run(root, "create", "--name", "c", "docker.io/strata-test/busybox:latest").Ok();
        return (root, kitchensink);
    }

    [Fact]
    public void WithNoByteFreeTheReadVerbsWorkAndRmiAndPruneFreeSpace()
    {
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 24 << 20);
        var (root, kitchensink) = TwoImagesAndAContainer(fs);
        fs.Fill();
        Assert.True(fs.Available < 4096, $"{fs.Available} bytes still free");

        var outDir = tmp.CreateDirectory("out"); // another file system
        Assert.Equal(2, StrataCli.Run(root, "images", "-q").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        StrataCli.Run(root, "inspect", kitchensink).Ok();
        StrataCli.Run(root, "history", kitchensink).Ok();
        StrataCli.Run(root, "save", "-o", Path.Combine(outDir, "k.tar"), kitchensink).Ok();
        StrataCli.Run(root, "export", "-o", Path.Combine(outDir, "c.tar"), "c").Ok();
        StrataCli.Run(root, "df").Ok();
        StrataCli.Run(root, "ps").Ok();

        // A writer is refused with the storage code; rmi frees what the image held, and prune works after it.
        var load = StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("busybox").OciArchive);
        Assert.True(load.ExitCode == StorageExit && load.Stderr.Contains("no space left", StringComparison.Ordinal), load.Stderr);
        StrataCli.Run(root, "rmi", kitchensink).Ok();
        Assert.True(fs.Available > 3 << 19, $"rmi freed too little: {fs.Available} bytes free"); // the 1 MiB reserve and the image's blobs
        Assert.Single(StrataCli.Run(root, "images", "-q").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        StrataCli.Run(root, "prune").Ok();
        StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("kitchensink").OciArchive).Ok();
    }

    [Fact]
    public void WithNoByteFreeAndNoReserveRmiRmAndPruneStillFreeSpace()
    {
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 24 << 20);
        var (root, kitchensink) = TwoImagesAndAContainer(fs);
        // A store made before the reserve, or whose reserve an earlier full disk used up.
        File.Delete(Path.Combine(root, "reserve"));
        fs.Fill();
        Assert.True(fs.Available < 4096, $"{fs.Available} bytes still free");

        StrataCli.Run(root, "rmi", kitchensink).Ok();
        var afterRmi = fs.Available;
        Assert.True(afterRmi > 1 << 19, $"rmi freed too little: {afterRmi} bytes free");
        StrataCli.Run(root, "rm", "-f", "c").Ok();
        Assert.True(fs.Available > afterRmi, "rm freed nothing");
        StrataCli.Run(root, "prune").Ok();
        Assert.Single(StrataCli.Run(root, "images", "-q").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        // The database came through whole, back in WAL mode for the next writer.
        StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("kitchensink").OciArchive).Ok();
        StrataCli.Run(root, "system", "check").Ok();
    }
}
