using Strata.Engine;
using Strata.Errors;
using Strata.Native;
using Strata.Snapshots;
using Strata.Tests.Infrastructure;
using Strata.Union;

namespace Strata.Tests.Engine;

/// <summary>
/// A snapshotter written outside Strata, against its public API only, carries the engine's whole container cycle:
/// the interface is one a third party can implement, and the engine needs nothing of a snapshotter but it.
/// </summary>
public class ThirdPartySnapshotterTests
{
    /// <summary>Full copies in plain directories, records in memory: the least a snapshotter can be.</summary>
    private sealed class CopySnapshotter(string home) : ISnapshotter
    {
        private readonly Dictionary<string, (SnapshotInfo Info, string? Dir)> _snapshots = [];
        private readonly Lock _lock = new();

        public string Name => "copy";

        public IReadOnlyList<MountSpec> Prepare(string key, string? parent) => Make(key, parent, SnapshotKind.Active);

        public IReadOnlyList<MountSpec> View(string key, string? parent) => Make(key, parent, SnapshotKind.View);

        private IReadOnlyList<MountSpec> Make(string key, string? parent, SnapshotKind kind)
        {
            lock (_lock)
            {
                if (_snapshots.ContainsKey(key)) throw new StrataException(ErrorKind.AlreadyExists, $"{key} exists");
                if (parent is not null && (!_snapshots.TryGetValue(parent, out var p) || p.Info.Kind != SnapshotKind.Committed))
                    throw new StrataException(ErrorKind.NotFound, $"no committed {parent}");
                string? dir = null;
                if (kind == SnapshotKind.Active)
                {
                    dir = Directory.CreateDirectory(Path.Combine(home, Guid.NewGuid().ToString("N"))).FullName;
                    if (parent is not null) Tool.Run("cp", "-a", _snapshots[parent].Dir + "/.", dir);
                }
                _snapshots[key] = (new SnapshotInfo(key, parent, kind, DateTimeOffset.UtcNow), dir);
                return MountsOf(key);
            }
        }

        public IReadOnlyList<MountSpec> Mounts(string key)
        {
            lock (_lock) return MountsOf(key);
        }

        private IReadOnlyList<MountSpec> MountsOf(string key)
        {
            if (!_snapshots.TryGetValue(key, out var s)) throw new StrataException(ErrorKind.NotFound, $"no {key}");
            var dir = s.Dir ?? (s.Info.Parent is { } p ? _snapshots[p].Dir! : Directory.CreateDirectory(Path.Combine(home, "empty")).FullName);
            return [MountSpec.Bind(dir, readOnly: s.Info.Kind != SnapshotKind.Active)];
        }

        public void Commit(string name, string key)
        {
            lock (_lock)
            {
                if (_snapshots.ContainsKey(name)) throw new StrataException(ErrorKind.AlreadyExists, $"{name} exists");
                var s = _snapshots[key];
                _snapshots.Remove(key);
                _snapshots[name] = (s.Info with { Key = name, Kind = SnapshotKind.Committed }, s.Dir);
            }
        }

        public void Remove(string key)
        {
            lock (_lock)
            {
                if (_snapshots.Values.Any(s => s.Info.Parent == key)) throw new StrataException(ErrorKind.FailedPrecondition, $"{key} has children");
                if (_snapshots.Remove(key, out var s) && s.Dir is not null) Directory.Delete(s.Dir, recursive: true);
            }
        }

        public SnapshotInfo? Stat(string key)
        {
            lock (_lock) return _snapshots.TryGetValue(key, out var s) ? s.Info : null;
        }

        public SnapshotUsage Usage(string key)
        {
            lock (_lock)
            {
                var dir = _snapshots[key].Dir;
                var files = dir is null ? [] : new DirectoryInfo(dir).GetFiles("*", SearchOption.AllDirectories);
                return new SnapshotUsage(files.Sum(f => f.Length), files.Length);
            }
        }

        public IReadOnlyList<SnapshotInfo> List()
        {
            lock (_lock) return _snapshots.Values.Select(s => s.Info).ToList();
        }
    }

    [Theory]
    [InlineData(StorageDriver.Vfs)]
    [InlineData(StorageDriver.Overlay)]
    public async Task TheContainerCycleRunsOnAnotherSnapshotter(StorageDriver driver)
    {
        if (driver == StorageDriver.Overlay) Requires.Root(); // its binds are mounted by the kernel
        using var tmp = new TempDir("third-party");
        var ct = TestContext.Current.CancellationToken;
        var snapshotter = new CopySnapshotter(tmp.CreateDirectory("copies"));
        var engine = new StrataEngine(new StrataEngineOptions { Root = tmp.Combine("store"), Driver = driver, Snapshotter = snapshotter });
        var rootfs = tmp.CreateDirectory("rootfs", "etc");
        await File.WriteAllTextAsync(Path.Combine(rootfs, "os-release"), "ID=copy\n", ct);
        await engine.ImportAsync(Path.GetDirectoryName(rootfs)!, new ImportOptions { Reference = "example.com/copy:1" }, ct);

        var box = await engine.CreateContainerAsync("example.com/copy:1", "box", cancellationToken: ct);
        Assert.Equal(SnapshotKind.Active, snapshotter.Stat(box.Id)!.Kind);
        var tree = await engine.MountContainerAsync("box", ct);
        Assert.Equal(driver == StorageDriver.Overlay, Libc.IsMountPoint(tree));
        await File.WriteAllTextAsync(Path.Combine(tree, "added"), "new\n", ct);
        Assert.Equal("ID=copy\n", await File.ReadAllTextAsync(Path.Combine(tree, "etc", "os-release"), ct));
        await engine.UnmountContainerAsync("box", cancellationToken: ct);
        Assert.False(Libc.IsMountPoint(tree));

        Assert.Contains(new Change('A', "/added"), await engine.DiffAsync("box", ct));
        await engine.CommitAsync("box", new CommitOptions { Reference = "example.com/copy:2" }, ct);
        var second = await engine.CreateContainerAsync("example.com/copy:2", "second", cancellationToken: ct);
        await engine.ExportAsync("second", tmp.Combine("second.tar"), ct);
        var names = Tool.Run("tar", "-tf", tmp.Combine("second.tar")).Stdout.Split('\n');
        Assert.Contains("added", names);
        Assert.Contains("etc/os-release", names);
        Assert.Equal(2, snapshotter.List().Count(s => s.Kind == SnapshotKind.Committed));

        await engine.RemoveContainerAsync("box", cancellationToken: ct);
        await engine.RemoveContainerAsync(second.Id, cancellationToken: ct);
        await engine.RemoveImageAsync("example.com/copy:2", cancellationToken: ct);
        await engine.RemoveImageAsync("example.com/copy:1", cancellationToken: ct);
        Assert.Empty(snapshotter.List());
        Assert.Empty(Directory.GetDirectories(tmp.Combine("copies")));
    }
}
