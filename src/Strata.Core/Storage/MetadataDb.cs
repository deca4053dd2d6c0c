using Microsoft.Data.Sqlite;

namespace Strata.Storage;

/// <summary>
/// The store's metadata in SQLite (WAL): transactions keep several strata processes on one root consistent,
/// and a kill -9 at any moment leaves either the old or the new state.
/// </summary>
public sealed class MetadataDb : IDisposable
{
    private const int SchemaVersion = 4;
    private readonly SqliteConnection _connection;

    public MetadataDb(string path)
    {
        // Mode is left at its default (ReadWriteCreate): setting an enum keyword formats it through Enum.ToString,
        // whose first use costs a NativeAOT start-up about 0.2 ms of reflection.
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        _connection.Open();
        Execute("PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
        Migrate();
    }

    public SqliteConnection Connection => _connection;

    private void Migrate()
    {
        // The common case reads one pragma and takes no write lock, so readers never queue behind each other.
        if ((long)(Scalar("PRAGMA user_version") ?? 0L) == SchemaVersion) return;
        using var tx = _connection.BeginTransaction(deferred: false);
        long version = (long)(Scalar("PRAGMA user_version", tx) ?? 0L);
        if (version < 1)
        {
            Execute("""
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
            Execute("""
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
            Execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);", tx);
        }
        if (version < 4)
        {
            // Where a blob is known to live, so a push to another repository of that registry can mount it.
            Execute("""
                CREATE TABLE blob_sources (
                    digest TEXT NOT NULL,
                    registry TEXT NOT NULL,
                    repository TEXT NOT NULL,
                    PRIMARY KEY (digest, registry, repository));
                """, tx);
        }
        if (version > SchemaVersion)
            throw new Errors.StrataException(Errors.ErrorKind.FailedPrecondition,
                $"the store was written by a newer strata (schema {version} > {SchemaVersion})");
        Execute($"PRAGMA user_version = {SchemaVersion}", tx);
        tx.Commit();
    }

    public SqliteTransaction BeginWrite() => _connection.BeginTransaction(deferred: false);

    public int Execute(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        return cmd.ExecuteNonQuery();
    }

    public object? Scalar(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        return cmd.ExecuteScalar();
    }

    public SqliteCommand Command(string sql, SqliteTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    public void Dispose() => _connection.Dispose();
}
