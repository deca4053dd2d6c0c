using System.Security.Cryptography;
using Strata.Errors;
using Strata.Storage;

namespace Strata.Snapshots;

/// <summary>
/// What Strata's own snapshotters share: a snapshot is a directory HOME/NAME whose tree is NAME/diff, recorded in
/// the store's database. A new one is made as .staging-NAME and renamed into place before its row is written, so a
/// crash leaves at most an unnamed directory (swept by <see cref="SnapshotCollector"/>), never a row without files.
/// </summary>
internal abstract partial class DirectorySnapshotter : ISnapshotter
{
    protected DirectorySnapshotter(StrataStore store, string home)
    {
        Store = store;
        Home = home;
    }

    protected StrataStore Store { get; }

    /// <summary>Where the snapshots' directories are (absolute).</summary>
    public string Home { get; }

    public abstract string Name { get; }

    /// <summary>Fills a new active snapshot's directory: its diff/ (and whatever else the form needs), over <paramref name="parents"/> (top first).</summary>
    protected abstract void Populate(string dir, IReadOnlyList<SnapshotRecord> parents);

    /// <summary>How to mount a snapshot, given it and its ancestors (itself first).</summary>
    protected abstract IReadOnlyList<MountSpec> MountsOf(IReadOnlyList<SnapshotRecord> chain);

    /// <summary>A short name for the snapshot's tree, if the form keeps one (overlay's l/LINK).</summary>
    protected virtual string? MakeLink(string name) => null;

    /// <summary>After the row says committed: what an active snapshot needed and a layer does not (overlay's work/).</summary>
    protected virtual void OnCommitted(SnapshotRecord active) { }

    /// <summary>The snapshot's own files (its directory, and whatever else the form made with it).</summary>
    protected virtual void DeleteFiles(SnapshotRecord snapshot)
    {
        if (snapshot.Dir is { } d) DeleteTree(Path.Combine(Store.Root, d));
    }

    /// <summary>After the row is gone: the snapshot's files, and anything made for it since (overlay's flattened stacks).</summary>
    protected virtual void OnRemoved(SnapshotRecord removed) => DeleteFiles(removed);

    /// <summary>A snapshot's tree (its diff/).</summary>
    public string TreeOf(SnapshotRecord s) => Path.Combine(Store.Root, s.Dir ?? throw new StrataException(ErrorKind.Internal, $"snapshot {s.Key} has no directory"), "diff");

    /// <summary>An empty directory, for views of nothing.</summary>
    protected string Empty
    {
        get
        {
            var empty = Path.Combine(Home, "empty");
            Directory.CreateDirectory(empty);
            return empty;
        }
    }

    public IReadOnlyList<MountSpec> Prepare(string key, string? parent) => Create(key, parent, SnapshotState.Active);

    public IReadOnlyList<MountSpec> View(string key, string? parent) => Create(key, parent, SnapshotState.View);

    private IReadOnlyList<MountSpec> Create(string key, string? parent, SnapshotState state)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (Store.Snapshots.Get(key) is not null) throw Taken(key);
        var parents = parent is null ? [] : Store.Snapshots.Chain(parent);
        if (parent is not null && parents.Count == 0) throw StrataException.NotFound($"snapshot {parent} not found");
        if (parents.Count > 0 && parents[0].State != SnapshotState.Committed)
            throw new StrataException(ErrorKind.FailedPrecondition, $"snapshot {parent} is not committed: only a committed snapshot can be a parent");
        string? dir = null, link = null;
        if (state == SnapshotState.Active)
        {
            var name = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var staging = Path.Combine(Home, ".staging-" + name);
            Directory.CreateDirectory(staging);
            try
            {
                Populate(staging, parents);
                Directory.Move(staging, Path.Combine(Home, name));
            }
            catch
            {
                DeleteTree(staging);
                throw;
            }
            dir = Path.GetRelativePath(Store.Root, Path.Combine(Home, name));
            link = MakeLink(name);
        }
        var record = new SnapshotRecord(key, parent, state, dir, link, null, null, DateTimeOffset.UtcNow);
        if (!Store.Snapshots.TryAdd(record))
        {
            DeleteFiles(record); // another process took the key meanwhile: only what this call made goes
            throw Taken(key);
        }
        return MountsOf([record, .. parents]);
    }

    public IReadOnlyList<MountSpec> Mounts(string key)
    {
        var chain = Store.Snapshots.Chain(key);
        if (chain.Count == 0) throw StrataException.NotFound($"snapshot {key} not found");
        return MountsOf(chain);
    }

    public void Commit(string name, string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var active = Store.Snapshots.Get(key) ?? throw StrataException.NotFound($"snapshot {key} not found");
        if (active.State != SnapshotState.Active) throw new StrataException(ErrorKind.FailedPrecondition, $"snapshot {key} is not active");
        if (Store.Snapshots.Get(name) is not null) throw Taken(name);
        var (size, inodes) = TreeUsage.Of(TreeOf(active));
        var tree = RecordTree(active);
        if (!Store.Snapshots.Commit(key, name, size, inodes, tree)) throw Taken(name);
        OnCommitted(active);
    }

    public void Remove(string key)
    {
        var s = Store.Snapshots.Get(key) ?? throw StrataException.NotFound($"snapshot {key} not found");
        if (Store.Snapshots.HasChildren(key)) throw new StrataException(ErrorKind.FailedPrecondition, $"snapshot {key} has children: remove them first");
        // Row first: a crash after it leaves only an unnamed directory, never a row without its files.
        Store.Snapshots.Delete(key);
        OnRemoved(s);
    }

    public SnapshotInfo? Stat(string key) => Store.Snapshots.Get(key) is { } s ? Info(s) : null;

    public SnapshotUsage Usage(string key)
    {
        var s = Store.Snapshots.Get(key) ?? throw StrataException.NotFound($"snapshot {key} not found");
        if (s is { Size: { } size, Inodes: { } inodes }) return new SnapshotUsage(size, inodes);
        if (s.Dir is null) return new SnapshotUsage(0, 0);
        var (bytes, count) = TreeUsage.Of(TreeOf(s));
        return new SnapshotUsage(bytes, count);
    }

    public IReadOnlyList<SnapshotInfo> List() => Store.Snapshots.List().Select(Info).ToList();

    private static SnapshotInfo Info(SnapshotRecord s) => new(s.Key, s.Parent, s.State switch
    {
        SnapshotState.Active => SnapshotKind.Active,
        SnapshotState.View => SnapshotKind.View,
        _ => SnapshotKind.Committed,
    }, s.Created);

    /// <summary>
    /// Directories no row names (a crash between making one and recording it, or while removing one), untouched
    /// for <paramref name="age"/>: a live writer's are younger. Returns the bytes freed.
    /// </summary>
    public long SweepOrphans(TimeSpan age)
    {
        var rows = Store.Snapshots.List();
        long freed = 0;
        foreach (var dir in Orphans(rows))
        {
            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(dir) < age) continue;
            freed += TreeUsage.Of(dir).Bytes;
            DeleteTree(dir);
        }
        SweepExtras(rows, age);
        return freed;
    }

    /// <summary>The directories in <see cref="Home"/> no row names, whatever their age (what a check reports).</summary>
    public IReadOnlyList<string> Orphans() => Orphans(Store.Snapshots.List());

    private List<string> Orphans(IReadOnlyList<SnapshotRecord> rows)
    {
        if (!Directory.Exists(Home)) return [];
        var named = rows.Where(s => s.Dir is not null).Select(s => Path.GetFullPath(Path.Combine(Store.Root, s.Dir!))).ToHashSet(StringComparer.Ordinal);
        return Directory.EnumerateDirectories(Home).Where(dir => Path.GetFileName(dir) is not ("l" or "empty")
            && !Path.GetFileName(dir).StartsWith("flat-", StringComparison.Ordinal) && !named.Contains(dir)).ToList();
    }

    /// <summary>Whether a snapshot's own directory is where its row says (a view has none).</summary>
    public bool HasFiles(SnapshotRecord s) => s.Dir is null || Directory.Exists(TreeOf(s));

    /// <summary>What else of the form a crash can leave unnamed by any row (overlay's links), once <paramref name="age"/> old.</summary>
    protected virtual void SweepExtras(IReadOnlyList<SnapshotRecord> rows, TimeSpan age) { }

    private static StrataException Taken(string key) => new(ErrorKind.AlreadyExists, $"snapshot {key} already exists");

    protected static void DeleteTree(string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }
}
