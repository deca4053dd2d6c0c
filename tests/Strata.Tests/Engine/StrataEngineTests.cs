using Strata.Engine;
using Strata.Errors;
using Strata.Images;
using Strata.Tests.Infrastructure;
using Strata.Union;

namespace Strata.Tests.Engine;

/// <summary>Strata as a library: the engine alone, in process, as a .NET program uses it.</summary>
public class StrataEngineTests
{
    private static async Task<string> Rootfs(TempDir tmp)
    {
        var dir = tmp.CreateDirectory("rootfs");
        Directory.CreateDirectory(Path.Combine(dir, "etc"));
        await File.WriteAllTextAsync(Path.Combine(dir, "etc", "os-release"), "ID=strata\n");
        return dir;
    }

    [Fact]
    public void ConstructionTouchesNothing()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("not-yet");
        var engine = new StrataEngine(new StrataEngineOptions { Root = root });
        Assert.Equal(root, engine.Root);
        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public void ARelativeRootIsTakenFromTheCurrentDirectoryAtOnce()
    {
        var engine = new StrataEngine(new StrataEngineOptions { Root = "relative/store" });
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "relative/store"), engine.Root);
        var e = Assert.Throws<StrataException>(() => new StrataEngine(new StrataEngineOptions { Root = " " }));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public async Task ImportCreateChangeCommitAndSaveWithoutAMount()
    {
        using var tmp = new TempDir();
        var engine = new StrataEngine(new StrataEngineOptions { Root = tmp.Combine("store"), Driver = StorageDriver.Vfs });
        var ct = TestContext.Current.CancellationToken;
        var image = await engine.ImportAsync(await Rootfs(tmp), new ImportOptions { Reference = "example.com/app:1", SourceDateEpoch = 0 }, ct);
        Assert.Equal(["example.com/app:1"], image.Names);

        var container = await engine.CreateContainerAsync("example.com/app:1", "box", cancellationToken: ct);
        var tree = await engine.MountContainerAsync("box", ct);
        await File.WriteAllTextAsync(Path.Combine(tree, "hello.txt"), "hi\n", ct);
        File.Delete(Path.Combine(tree, "etc", "os-release"));
        await engine.UnmountContainerAsync("box", cancellationToken: ct);

        var changes = await engine.DiffAsync(container.Id, ct);
        Assert.Equal([new Change('D', "/etc/os-release"), new Change('A', "/hello.txt")], changes.Where(c => c.Path != "/etc").ToList());
        var committed = await engine.CommitAsync("box", new CommitOptions { Reference = "example.com/app:2", Changes = ["CMD [\"/hello\"]"] }, ct);
        var details = await engine.InspectImageAsync("example.com/app:2", ct);
        Assert.Equal(committed.Id, details.Id);
        Assert.Equal(["/hello"], details.Config.Config!.Cmd);
        Assert.Equal(2, details.Manifest.Layers.Count);

        var layout = tmp.Combine("layout");
        await engine.SaveAsync(["example.com/app:2"], layout, SaveFormat.OciDir, ct);
        var unpacked = tmp.Combine("unpacked");
        await engine.UnpackAsync("example.com/app:2", unpacked, ct);
        Assert.Equal("hi\n", await File.ReadAllTextAsync(Path.Combine(unpacked, "hello.txt"), ct));
        Assert.False(File.Exists(Path.Combine(unpacked, "etc", "os-release")));

        // A second engine on another root reads what the first wrote.
        var other = new StrataEngine(new StrataEngineOptions { Root = tmp.Combine("other") });
        var loaded = await other.LoadAsync(layout, ct);
        Assert.Equal(committed.Id, Assert.Single(loaded).Id);
    }

    [Fact]
    public async Task RulesLiveInTheEngine()
    {
        using var tmp = new TempDir();
        var engine = new StrataEngine(new StrataEngineOptions { Root = tmp.Combine("store"), Driver = StorageDriver.Vfs });
        var ct = TestContext.Current.CancellationToken;
        var image = await engine.ImportAsync(await Rootfs(tmp), new ImportOptions { Reference = "example.com/app:1" }, ct);
        await engine.TagAsync("example.com/app:1", ["example.com/app:latest"], ct);
        await engine.CreateContainerAsync(image.Id.ToString(), "user", cancellationToken: ct);

        // By one of two names, only that name goes; by ID, several names need force; in use, nothing goes.
        var untag = await engine.RemoveImageAsync("example.com/app:latest", cancellationToken: ct);
        Assert.Equal(["example.com/app:latest"], untag.Untagged);
        Assert.Null(untag.Deleted);
        await engine.TagAsync("example.com/app:1", ["example.com/app:latest"], ct);
        Assert.Equal(ErrorKind.Conflict, (await Assert.ThrowsAsync<StrataException>(() => engine.RemoveImageAsync(image.Id.ToString(), cancellationToken: ct))).Kind);
        var inUse = await Assert.ThrowsAsync<StrataException>(() => engine.RemoveImageAsync(image.Id.ToString(), force: true, cancellationToken: ct));
        Assert.Contains("in use by containers user", inUse.Message);

        await engine.RemoveContainerAsync("user", cancellationToken: ct);
        var removed = await engine.RemoveImageAsync(image.Id.ToString(), force: true, cancellationToken: ct);
        Assert.Equal(image.Id, removed.Deleted);
        Assert.Empty(await engine.ListImagesAsync(ct));
        Assert.Empty(Directory.EnumerateFiles(tmp.Combine("store", "blobs", "sha256")));
        Assert.Equal(ErrorKind.NotFound, (await Assert.ThrowsAsync<StrataException>(() => engine.HistoryAsync("example.com/app:1", ct))).Kind);
    }

    [Fact]
    public async Task ConcurrentCallsOnOneEngine()
    {
        using var tmp = new TempDir();
        var engine = new StrataEngine(new StrataEngineOptions { Root = tmp.Combine("store"), Driver = StorageDriver.Vfs });
        var ct = TestContext.Current.CancellationToken;
        var sources = new List<string>();
        for (int i = 0; i < 8; i++)
        {
            var dir = tmp.CreateDirectory($"src{i}");
            await File.WriteAllTextAsync(Path.Combine(dir, "n"), i.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
            sources.Add(dir);
        }
        // Imports, listings, container creation and pruning at once, from the thread pool.
        var imports = sources.Select((s, i) => engine.ImportAsync(s, new ImportOptions { Reference = $"example.com/n:{i}" }, ct)).ToList();
        var readers = Enumerable.Range(0, 8).Select(_ => engine.ListImagesAsync(ct)).ToList();
        var prunes = Enumerable.Range(0, 2).Select(_ => engine.PruneAsync(ct)).ToList();
        await Task.WhenAll(imports);
        await Task.WhenAll(readers);
        await Task.WhenAll(prunes);
        var creates = Enumerable.Range(0, 8).Select(i => engine.CreateContainerAsync($"example.com/n:{i}", $"c{i}", cancellationToken: ct)).ToList();
        await Task.WhenAll(creates);
        Assert.Equal(8, (await engine.ListImagesAsync(ct)).Count);
        Assert.Equal(8, (await engine.ListContainersAsync(ct)).Count);
        for (int i = 0; i < 8; i++)
        {
            var tree = await engine.MountContainerAsync($"c{i}", ct);
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), await File.ReadAllTextAsync(Path.Combine(tree, "n"), ct));
        }
    }

    [Fact]
    public async Task KernelMountLeavesTheProcessAlone()
    {
        Requires.Root();
        Requires.Overlay();
        using var tmp = new TempDir();
        var engine = new StrataEngine(new StrataEngineOptions { Root = tmp.Combine("store"), Driver = StorageDriver.Overlay });
        var ct = TestContext.Current.CancellationToken;
        await engine.ImportAsync(await Rootfs(tmp), new ImportOptions { Reference = "example.com/app:1" }, ct);
        await engine.CreateContainerAsync("example.com/app:1", "box", cancellationToken: ct);
        var cwd = Environment.CurrentDirectory;
        var merged = await engine.MountContainerAsync("box", ct);
        try
        {
            Assert.Equal(cwd, Environment.CurrentDirectory);
            Assert.Equal("ID=strata\n", await File.ReadAllTextAsync(Path.Combine(merged, "etc", "os-release"), ct));
        }
        finally
        {
            await engine.UnmountContainerAsync("box", force: true, ct);
        }
        Assert.Empty(TempDir.MountsBelow(tmp.Path));
    }
}
