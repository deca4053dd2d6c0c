using System.Security.Cryptography;
using Strata.Errors;
using Strata.Storage;

namespace Strata.Snapshots;

/// <summary>
/// What Strata's own snapshotters share: a snapshot is a directory HOME/NAME whose tree is NAME/diff, recorded in
/// the store's database. A new one is made as .staging-NAME and renamed into place before its row is written, so a
/// crash leaves at most an unnamed directory (swept by <see cref="SnapshotCollector"/>), never a row without files.
/// The process making or removing a directory holds its <see cref="IO.OwnerLock"/>, and an active snapshot's until it
/// is committed, removed or released: a directory or unpack no live process holds is a crash's, and goes at once.
/// </summary>
internal abstract partial class DirectorySnapshotter : ISnapshotter
{
    private readonly Dictionary<string, Microsoft.Win32.SafeHandles.SafeFileHandle> _held = new(StringComparer.Ordinal);

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
        Microsoft.Win32.SafeHandles.SafeFileHandle? held = null;
        if (state == SnapshotState.Active)
        {
            string name, staging;
            do
            {
                name = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                staging = Path.Combine(Home, ".staging-" + name);
                held = IO.OwnerLock.CreateDirectory(staging); // held until committed or removed: a crash's leftovers are told at once
            }
            while (held is null);
            try
            {
                Populate(staging, parents);
                Directory.Move(staging, Path.Combine(Home, name));
            }
            catch
            {
                DeleteTree(staging);
                held.Dispose();
                throw;
            }
            dir = Path.GetRelativePath(Store.Root, Path.Combine(Home, name));
            link = MakeLink(name);
        }
        var record = new SnapshotRecord(key, parent, state, dir, link, null, null, DateTimeOffset.UtcNow);
        if (!Store.Snapshots.TryAdd(record))
        {
            DeleteFiles(record); // another process took the key meanwhile: only what this call made goes
            held?.Dispose();
            throw Taken(key);
        }
        if (held is not null) lock (_held) _held[key] = held;
        return MountsOf([record, .. parents]);
    }

    /// <summary>Lets go of an active snapshot this process prepared: something else (a container's row) keeps it now.</summary>
    public void Release(string key)
    {
        lock (_held)
            if (_held.Remove(key, out var h)) h.Dispose();
    }

    /// <summary>Whether a live process holds the snapshot's directory: it is being made, unpacked into, or removed.</summary>
    public bool InUse(string key) => Store.Snapshots.Get(key) is { Dir: { } d } && IO.OwnerLock.IsHeld(Path.Combine(Store.Root, d));

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
        Release(key);
    }

    public void Remove(string key)
    {
        var s = Store.Snapshots.Get(key) ?? throw StrataException.NotFound($"snapshot {key} not found");
        if (Store.Snapshots.HasChildren(key)) throw new StrataException(ErrorKind.FailedPrecondition, $"snapshot {key} has children: remove them first");
        // Row first: a crash after it leaves only an unnamed directory, never a row without its files. The directory is
        // held meanwhile, so a sweep does not delete it under this removal (and takes it at once if this one is killed).
        Release(key);
        using var held = s.Dir is { } d ? IO.OwnerLock.Hold(Path.Combine(Store.Root, d)) : null;
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
    /// Directories no row names (a crash between making one and recording it, or while removing one) that no live
    /// process holds, and then what else of the form they leave. Returns the bytes freed.
    /// </summary>
    public long SweepOrphans()
    {
        var rows = Store.Snapshots.List();
        long freed = 0;
        foreach (var dir in Orphans(rows))
        {
            if (IO.OwnerLock.IsHeld(dir)) continue; // a live process's: not measured, not touched
            long bytes = TreeUsage.Of(dir).Bytes;
            if (IO.OwnerLock.TryRemoveAbandoned(dir)) freed += bytes;
        }
        SweepExtras(rows);
        return freed;
    }

    /// <summary>The directories in <see cref="Home"/> no row names and no live process holds (what a check reports).</summary>
    public IReadOnlyList<string> Orphans() => Orphans(Store.Snapshots.List()).Where(d => !IO.OwnerLock.IsHeld(d)).ToList();

    private List<string> Orphans(IReadOnlyList<SnapshotRecord> rows)
    {
        if (!Directory.Exists(Home)) return [];
        var named = rows.Where(s => s.Dir is not null).Select(s => Path.GetFullPath(Path.Combine(Store.Root, s.Dir!))).ToHashSet(StringComparer.Ordinal);
        var extras = KeptBeside(rows);
        return Directory.EnumerateDirectories(Home).Where(dir => Path.GetFileName(dir) is not ("l" or "empty")
            && !extras.Contains(Path.GetFileName(dir)) && !named.Contains(dir)).ToList();
    }

    /// <summary>Directory names in <see cref="Home"/> the form keeps for the given snapshots besides their own (overlay's flattened stacks).</summary>
    protected virtual IReadOnlySet<string> KeptBeside(IReadOnlyList<SnapshotRecord> rows) => new HashSet<string>();

    /// <summary>Whether a snapshot's own directory is where its row says (a view has none).</summary>
    public bool HasFiles(SnapshotRecord s) => s.Dir is null || Directory.Exists(TreeOf(s));

    /// <summary>What else of the form a crash can leave unnamed by any row (overlay's links), once its directory is gone.</summary>
    protected virtual void SweepExtras(IReadOnlyList<SnapshotRecord> rows) { }

    private static StrataException Taken(string key) => new(ErrorKind.AlreadyExists, $"snapshot {key} already exists");

    protected static void DeleteTree(string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }
}
