using Strata.Errors;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>One store root: content-addressed blobs plus the metadata that names them.</summary>
internal sealed class StrataStore : IDisposable
{
    private StrataStore(string root, ContentStore content, MetadataDb db, TimeSpan busyTimeout, bool readOnly = false)
    {
        Root = root;
        BusyTimeout = busyTimeout;
        ReadOnly = readOnly;
        Content = content;
        Db = db;
        Images = new ImageStore(Db);
        Snapshots = new SnapshotRecords(Db);
        Containers = new ContainerRecords(Db);
        Mounts = new MountRecords(Db);
        Settings = new StoreSettings(Db);
        BlobSources = new BlobSourceRecords(Db);
        Leases = new LeaseRecords(Db);
    }

    public string Root { get; }

    /// <summary>The bound on waiting for another process (its database write, the collection lock).</summary>
    public TimeSpan BusyTimeout { get; }

    /// <summary>Opened only to read (<see cref="OpenReadOnly"/>): nothing may be written through it.</summary>
    public bool ReadOnly { get; }
    public ContentStore Content { get; }
    internal MetadataDb Db { get; }
    internal ImageStore Images { get; }
    internal SnapshotRecords Snapshots { get; }
    internal ContainerRecords Containers { get; }
    internal MountRecords Mounts { get; }
    internal StoreSettings Settings { get; }
    internal BlobSourceRecords BlobSources { get; }
    internal LeaseRecords Leases { get; }

    /// <summary>The lease this store's operation holds, if it took one (<see cref="BeginLease"/>).</summary>
    internal Lease? ActiveLease => Content.Lease;

    /// <summary>
    /// Takes a lease for the operation this store was opened for: from here until it is disposed, every blob the
    /// content store finds or makes is held (<see cref="ContentStore.Lease"/>), and callers hold their snapshots.
    /// </summary>
    public Lease BeginLease()
    {
        if (Content.Lease is not null) throw new InvalidOperationException("this store's operation already holds a lease");
        var lease = Lease.Acquire(this);
        Content.Lease = lease;
        return lease;
    }

    /// <summary>
    /// Opens (or makes) the store at root to change it: its directories and its metadata database, migrated if it
    /// is old. A store on a read-only file system, or one this user may not write, is refused with one line.
    /// </summary>
    /// <param name="withoutWal">See <see cref="MetadataDb.Open"/>: only for verbs that free space on a full disk.</param>
    public static StrataStore Open(string root, TimeSpan? busyTimeout = null, bool withoutWal = false)
    {
        RefuseIfUnwritable(root);
        Directory.CreateDirectory(root);
        var content = ContentStore.Open(root);
        SpaceReserve.Ensure(root);
        var timeout = busyTimeout ?? MetadataDb.DefaultBusyTimeout;
        return new StrataStore(root, content, MetadataDb.Open(Path.Combine(root, "strata.db"), timeout, root, m => RefsOf(content, m), withoutWal), timeout);
    }

    /// <summary>
    /// Another connection to this store's database, for work on other threads than the one this store's connection
    /// serves (a Microsoft.Data.Sqlite connection is not safe to share between threads).
    /// </summary>
    internal MetadataDb OpenConnection() =>
        MetadataDb.Open(Path.Combine(Root, "strata.db"), BusyTimeout, Root, _ => null);

    /// <summary>Opens an existing store only to read, for when <see cref="Open"/> cannot: see <see cref="IsUnwritable"/>.</summary>
    public static StrataStore OpenReadOnly(string root, TimeSpan? busyTimeout = null) =>
        new(root, ContentStore.Open(root, create: false),
            MetadataDb.OpenReadOnly(Path.Combine(root, "strata.db"), busyTimeout ?? MetadataDb.DefaultBusyTimeout),
            busyTimeout ?? MetadataDb.DefaultBusyTimeout, readOnly: true);

    /// <summary>Whether <see cref="Open"/> failed because the store cannot be written (so it may still be read).</summary>
    public static bool IsUnwritable(Exception e) => e switch
    {
        StrataException { Kind: ErrorKind.Storage or ErrorKind.PermissionDenied } => true,
        UnauthorizedAccessException => true,
        Microsoft.Data.Sqlite.SqliteException or IOException => StorageFaults.Translate(e, "") is { Kind: ErrorKind.Storage },
        _ => false,
    };

    private static void RefuseIfUnwritable(string root)
    {
        if (!Directory.Exists(root)) return; // making it says whether that is allowed
        const string Reads = "it can be read (images, inspect, history, save, export, ps, df) but not changed";
        if (Native.Libc.StatVfs(root, out var v) == 0 && (v.Flag & Native.Libc.ST_RDONLY) != 0)
            throw new StrataException(ErrorKind.Storage, $"the store at {root} is on a read-only file system: {Reads}");
        foreach (var path in new[] { root, Path.Combine(root, "strata.db") })
            if (Path.Exists(path) && Native.Libc.FAccessAt(Native.Libc.AT_FDCWD, path, Native.Libc.W_OK, Native.Libc.AT_EACCESS) != 0
                && Native.Libc.LastErrno is Native.Errno.EACCES or Native.Errno.EPERM)
                throw new StrataException(ErrorKind.PermissionDenied, $"no write access to the store at {root}: {Reads}");
    }

    /// <summary>For the schema's migrations: what the image with this manifest references, or null when it cannot be read.</summary>
    private static ImageRefs? RefsOf(ContentStore content, string manifestDigest)
    {
        try
        {
            var digest = Digest.Parse(manifestDigest);
            var manifest = OciDocuments.ParseManifest(content.ReadAll(digest));
            return ImageRefs.Of(digest, manifest, OciDocuments.ParseConfig(content.ReadAll(manifest.Config.Digest)));
        }
        catch (Exception e) when (e is StrataException or IOException or FormatException)
        {
            return null; // a damaged image: a container of it stays on no layers, and a later check reports it
        }
    }

    /// <summary>Finds an image by name, full or short ID, or manifest digest.</summary>
    public LocalImage Resolve(string nameOrId)
    {
        var id = ResolveId(nameOrId) ?? throw StrataException.NotFound($"image not known: {nameOrId}");
        try
        {
            return LocalImage.Load(this, Images.Get(id) ?? throw StrataException.NotFound($"image not known: {nameOrId}"));
        }
        catch (StrataException e) when (e.Kind == ErrorKind.NotFound && Images.Get(id) is null)
        {
            // An rmi removed it (and a collection its blobs) between finding it and reading it.
            throw StrataException.NotFound($"image not known: {nameOrId} (it was removed meanwhile)");
        }
    }

    public Digest? ResolveId(string nameOrId)
    {
        var s = nameOrId.StartsWith("sha256:", StringComparison.Ordinal) ? nameOrId[7..] : nameOrId;
        if (s.Length is >= 3 and <= 64 && s.All(char.IsAsciiHexDigitLower))
        {
            var matches = Images.FindByIdPrefix(s);
            if (matches.Count == 1) return matches[0];
            if (matches.Count > 1) throw new StrataException(ErrorKind.Conflict, $"image ID prefix {s} is ambiguous");
            if (s.Length == 64 && Images.FindByManifest(Digest.Parse("sha256:" + s)) is [var byManifest, ..]) return byManifest.Id;
        }
        if (!ImageReference.TryParse(nameOrId, out var reference)) return null;
        if (reference.Digest is { } md)
        {
            var byDigest = Images.FindByManifest(md);
            return byDigest.Count > 0 ? byDigest[0].Id : null;
        }
        return Images.FindByName(reference.ToString());
    }

    public void Dispose() => Db.Dispose();
}
