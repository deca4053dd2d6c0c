using System.Globalization;
using Microsoft.Data.Sqlite;
using Strata.Errors;

namespace Strata.Storage;

/// <summary>
/// The metadata database's schema, the one place that knows its tables: each version's migration in order, run
/// in one write transaction by the first process that opens an older store.
/// </summary>
internal static class MetadataSchema
{
    public const int Version = 7;

    /// <param name="db">The database.</param>
    /// <param name="root">The store root (version 5 moves vfs containers' trees).</param>
    /// <param name="refsOf">What the image with this manifest digest references, or null when it cannot be read.</param>
    public static void Migrate(MetadataDb db, string root, Func<string, ImageRefs?> refsOf)
    {
        // The common case reads one pragma and takes no write lock, so readers never queue behind each other.
        if ((long)(db.Scalar("PRAGMA user_version") ?? 0L) == Version) return;
        using var tx = db.BeginWrite();
        long version = (long)(db.Scalar("PRAGMA user_version", tx) ?? 0L);
        if (version < 1)
        {
            db.Execute("""
                CREATE TABLE images (
                    id TEXT PRIMARY KEY,
                    manifest_digest TEXT NOT NULL,
                    manifest_media_type TEXT NOT NULL,
                    created TEXT,
                    size INTEGER NOT NULL,
                    added TEXT NOT NULL);
                CREATE TABLE names (
                    name TEXT PRIMARY KEY,
                    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                    added TEXT NOT NULL);
                CREATE INDEX names_image ON names(image_id);
                CREATE TABLE layer_info (
                    blob_digest TEXT PRIMARY KEY,
                    diff_id TEXT NOT NULL,
                    uncompressed_size INTEGER NOT NULL);
                """, tx);
        }
        if (version < 2)
        {
            // Layers unpacked once per ChainID; containers are a writable layer on an image; mounts are counted.
            db.Execute("""
                CREATE TABLE layers (
                    chain_id TEXT PRIMARY KEY,
                    parent TEXT,
                    diff_id TEXT NOT NULL,
                    dir TEXT NOT NULL UNIQUE,
                    link TEXT NOT NULL UNIQUE,
                    size INTEGER NOT NULL);
                CREATE TABLE containers (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    image_id TEXT NOT NULL,
                    top_layer TEXT,
                    created TEXT NOT NULL);
                CREATE TABLE mounts (
                    target TEXT PRIMARY KEY,
                    count INTEGER NOT NULL);
                """, tx);
        }
        if (version < 3)
        {
            db.Execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);", tx);
        }
        if (version < 4)
        {
            // Where a blob is known to live, so a push to another repository of that registry can mount it.
            db.Execute("""
                CREATE TABLE blob_sources (
                    digest TEXT NOT NULL,
                    registry TEXT NOT NULL,
                    repository TEXT NOT NULL,
                    PRIMARY KEY (digest, registry, repository));
                """, tx);
        }
        if (version < 5) MigrateToSnapshots(db, tx, root, m => refsOf(m)?.TopChain?.ToString());
        if (version < 6)
        {
            // The digest of a committed snapshot's tree record (Snapshots/TreeIndex), so a check finds bit rot in
            // unpacked layers; null for layers committed before, which the first full check records.
            db.Execute("ALTER TABLE snapshots ADD COLUMN tree TEXT;", tx);
        }
        if (version < 7) AddRefsAndLeases(db, tx, refsOf);
        if (version > Version)
            throw new StrataException(ErrorKind.FailedPrecondition,
                $"the store was written by a newer strata (schema {version} > {Version})");
        db.Execute($"PRAGMA user_version = {Version}", tx);
        tx.Commit();
    }

    /// <summary>
    /// Version 5: layers and containers' writable layers become snapshots (<see cref="SnapshotRecords"/>): a layer
    /// keeps its directory and link under its ChainID; a container's writable layer stays in containers/ID
    /// (a vfs container's tree moves from merged/ to diff/, where vfs snapshots keep theirs), on its image's top layer.
    /// </summary>
    private static void MigrateToSnapshots(MetadataDb db, SqliteTransaction tx, string root, Func<string, string?> topChainOf)
    {
        var now = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        db.Execute($"""
            CREATE TABLE snapshots (
                key TEXT PRIMARY KEY,
                parent TEXT,
                state INTEGER NOT NULL,
                dir TEXT UNIQUE,
                link TEXT UNIQUE,
                size INTEGER,
                inodes INTEGER,
                created TEXT NOT NULL);
            CREATE INDEX snapshots_parent ON snapshots(parent);
            INSERT INTO snapshots(key, parent, state, dir, link, size, created)
                SELECT chain_id, parent, {(int)SnapshotState.Committed}, 'overlay/' || dir, link, NULL, '{now}' FROM layers;
            DROP TABLE layers;
            """, tx);
        bool vfs = db.Scalar("SELECT value FROM settings WHERE key = $k", tx, ("$k", StoreSettings.Driver)) as string == "vfs";
        var containers = new List<(string Id, string Created, string? Manifest)>();
        using (var cmd = db.Command("SELECT c.id, c.created, i.manifest_digest FROM containers c LEFT JOIN images i ON i.id = c.image_id", tx))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) containers.Add((r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)));
        foreach (var (id, created, manifest) in containers)
        {
            var dir = Path.Combine(root, "containers", id);
            if (vfs && Directory.Exists(Path.Combine(dir, "merged")) && !Directory.Exists(Path.Combine(dir, "diff")))
                Directory.Move(Path.Combine(dir, "merged"), Path.Combine(dir, "diff"));
            db.Execute("INSERT INTO snapshots(key, parent, state, dir, created) VALUES ($k, $p, $s, $d, $c)", tx,
                ("$k", id), ("$p", manifest is null ? null : topChainOf(manifest)), ("$s", (long)SnapshotState.Active),
                ("$d", "containers/" + id), ("$c", created));
        }
    }

    /// <summary>
    /// Version 7: what each image references (image_refs), so a collection looks up instead of reading every image's
    /// documents, and the leases of operations in flight (leases, lease_refs). An image whose documents cannot be
    /// read keeps only its manifest (a check reports it).
    /// </summary>
    private static void AddRefsAndLeases(MetadataDb db, SqliteTransaction tx, Func<string, ImageRefs?> refsOf)
    {
        db.Execute($"""
            CREATE TABLE image_refs (
                image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                kind INTEGER NOT NULL,
                key TEXT NOT NULL,
                PRIMARY KEY (image_id, kind, key)) WITHOUT ROWID;
            CREATE INDEX image_refs_key ON image_refs(kind, key);
            CREATE TABLE leases (
                id TEXT PRIMARY KEY,
                created TEXT NOT NULL);
            CREATE TABLE lease_refs (
                lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
                kind INTEGER NOT NULL,
                key TEXT NOT NULL,
                PRIMARY KEY (lease_id, kind, key)) WITHOUT ROWID;
            CREATE INDEX lease_refs_key ON lease_refs(kind, key);
            """, tx);
        var images = new List<(string Id, string Manifest)>();
        using (var cmd = db.Command("SELECT id, manifest_digest FROM images", tx))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) images.Add((r.GetString(0), r.GetString(1)));
        foreach (var (id, manifest) in images)
            ImageStore.PutRefs(db, tx, id, refsOf(manifest) ?? new ImageRefs([Oci.Digest.Parse(manifest)], []));
    }
}
