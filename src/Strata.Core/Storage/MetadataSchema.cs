using Strata.Errors;

namespace Strata.Storage;

/// <summary>
/// The metadata database's schema, the one place that knows its tables: each version's migration in order, run
/// in one write transaction by the first process that opens an older store.
/// </summary>
internal static class MetadataSchema
{
    public const int Version = 4;

    public static void Migrate(MetadataDb db)
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
        if (version > Version)
            throw new StrataException(ErrorKind.FailedPrecondition,
                $"the store was written by a newer strata (schema {version} > {Version})");
        db.Execute($"PRAGMA user_version = {Version}", tx);
        tx.Commit();
    }
}
