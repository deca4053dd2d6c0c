using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Strata.Storage;

/// <summary>
/// What one operation in flight holds (containerd's leases): the blobs and snapshots it found or made, kept from any
/// collection until it ends, when what it made is named by an image or container or is garbage. A lease lives as long
/// as its holder: a row in the leases table plus a file under leases/ the holder keeps flock'd, so a collection knows
/// the lease of a killed process for dead at once and drops it.
/// </summary>
/// <remarks>
/// A collection holds the store lock exclusive while it decides and deletes; <see cref="Hold{T}"/> takes it shared
/// only to record a reference and act on it (look whether a blob is there, rename a new one in), so each such step
/// happens wholly before or wholly after a collection, and no lock is held for the length of a pull.
/// </remarks>
internal sealed class Lease : IDisposable
{
    private readonly StrataStore _store;
    private readonly MetadataDb _db;
    private readonly LeaseRecords _records;
    private readonly FileStream _file;
    private readonly string _path;
    private readonly HashSet<(RefKind, string)> _held = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    private Lease(StrataStore store, MetadataDb db, string id, FileStream file, string path)
    {
        _store = store;
        _db = db;
        _records = new LeaseRecords(db);
        Id = id;
        _file = file;
        _path = path;
    }

    public string Id { get; }

    public static string Directory(string root) => Path.Combine(root, "leases");

    public static Lease Acquire(StrataStore store)
    {
        System.IO.Directory.CreateDirectory(Directory(store.Root));
        // The file is locked before the row exists, so no collection ever sees the row of a live lease unlocked; made
        // by OwnerLock, so a collection sweeping unnamed lease files never takes one between its create and its lock.
        string id, path;
        FileStream? file;
        do
        {
            id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            path = Path.Combine(Directory(store.Root), id);
            file = IO.OwnerLock.CreateFile(path);
        }
        while (file is null);
        // Its own connection, used under its gate: an operation holds things from several threads at once (a pull's
        // downloads), and the store's connection is its main thread's.
        MetadataDb? db = null;
        try
        {
            db = store.OpenConnection();
            new LeaseRecords(db).Add(id);
            return new Lease(store, db, id, file, path);
        }
        catch
        {
            db?.Dispose();
            File.Delete(path);
            file.Dispose();
            throw;
        }
    }

    /// <summary>Holds a reference and, in the same step, acts on what it names (see the remarks).</summary>
    public T Hold<T>(RefKind kind, string key, Func<T> use)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_held.Contains((kind, key))) return use();
        }
        using (StoreLock.Shared(_store))
        {
            lock (_gate)
            {
                _records.Hold(Id, kind, key);
                _held.Add((kind, key));
            }
            return use();
        }
    }

    /// <summary>Holds references to what exists now or will be made under this lease.</summary>
    public void Hold(RefKind kind, IEnumerable<string> keys)
    {
        List<string> missing;
        lock (_gate) missing = keys.Where(k => !_held.Contains((kind, k))).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count == 0) return;
        using (StoreLock.Shared(_store))
        lock (_gate)
        {
            _records.Hold(Id, kind, missing);
            foreach (var k in missing) _held.Add((kind, k));
        }
    }

    /// <summary>Holds an image's blobs and layers; then whether the image is still there (an rmi may have come first).</summary>
    public bool Hold(LocalImage image)
    {
        var refs = image.Refs;
        Hold(RefKind.Blob, refs.Blobs.Select(b => b.ToString()));
        Hold(RefKind.Snapshot, refs.Chains.Select(c => c.ToString()));
        return _store.Images.Get(image.Id) is not null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        // Row, then file: a crash in between leaves an unlocked file no row names, which a collection sweeps.
        try { _records.Delete(Id); }
        catch (SqliteException) { } // a full disk: the row outlives us, and the next collection finds its file unlocked
        _db.Dispose();
        try { File.Delete(_path); }
        catch (IOException) { }
        _file.Dispose();
    }

    /// <summary>
    /// Drops the leases whose holders are gone (their files unlocked or missing) and lease files no row names. The
    /// caller holds the store lock exclusive.
    /// </summary>
    public static void ExpireDead(StrataStore store)
    {
        var dir = Directory(store.Root);
        var rows = store.Leases.List();
        foreach (var id in Dead(store, rows))
        {
            store.Leases.Delete(id);
            IO.OwnerLock.TryRemoveAbandoned(Path.Combine(dir, id));
        }
        if (!System.IO.Directory.Exists(dir)) return;
        var named = rows.ToHashSet(StringComparer.Ordinal);
        foreach (var file in System.IO.Directory.EnumerateFiles(dir))
            if (!named.Contains(Path.GetFileName(file))) IO.OwnerLock.TryRemoveAbandoned(file); // a crash before its row
    }

    /// <summary>The leases whose holders are gone, found without changing anything (what df counts as reclaimable).</summary>
    public static IReadOnlySet<string> Dead(StrataStore store, IReadOnlyList<string>? rows = null) =>
        (rows ?? store.Leases.List()).Where(id => !IO.OwnerLock.IsHeld(Path.Combine(Directory(store.Root), id))).ToHashSet(StringComparer.Ordinal);
}
