using Microsoft.Data.Sqlite;
using Strata.Errors;

namespace Strata.Storage;

/// <summary>
/// The store's metadata in SQLite (WAL): transactions keep several strata processes on one root consistent,
/// and a kill -9 at any moment leaves either the old or the new state.
/// </summary>
internal sealed class MetadataDb : IDisposable
{
    private readonly SqliteConnection _connection;

    private MetadataDb(SqliteConnection connection) => _connection = connection;

    /// <summary>How long a writer waits for another process's write transaction before giving up, unless told.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Opens (or makes) the database and brings its schema up to date (one pragma read when it is).</summary>
    /// <param name="path">The database file.</param>
    /// <param name="busyTimeout">The bound on waiting for another process's write transaction.</param>
    /// <param name="root">The store root, for migrations that move files.</param>
    /// <param name="refsOf">For migrations: see <see cref="MetadataSchema.Migrate"/>.</param>
    /// <param name="withoutWal">
    /// For a verb freeing space on a disk with no room for the WAL (<see cref="SpaceReserve.TooFullForWal"/>): the
    /// database is held exclusively, so SQLite keeps the WAL index in memory, and written in place with its rollback
    /// journal in memory. The next ordinary open turns WAL on again. A crash inside such a transaction can damage the
    /// database (as SQLite warns of journal_mode MEMORY), so it is only the last resort when the reserve is gone.
    /// </param>
    public static MetadataDb Open(string path, TimeSpan busyTimeout, string root, Func<string, ImageRefs?> refsOf, bool withoutWal = false)
    {
        // Mode is left at its default (ReadWriteCreate): setting an enum keyword formats it through Enum.ToString,
        // whose first use costs a NativeAOT start-up about 0.2 ms of reflection.
        return OpenWith(new SqliteConnectionStringBuilder { DataSource = path }, busyTimeout,
            withoutWal
                ? "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = MEMORY; PRAGMA temp_store = MEMORY; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            db => MetadataSchema.Migrate(db, root, refsOf));
    }

    /// <summary>
    /// Opens the database only to read, for a store this process cannot write (a read-only mount, another user's
    /// store, a full disk): first as a reader sharing the WAL index with any writer, then, when not even that index
    /// can be opened or made, as an immutable file (SQLite then reads the main file and takes no locks), which is
    /// right only when the WAL holds nothing that file lacks.
    /// </summary>
    public static MetadataDb OpenReadOnly(string path, TimeSpan busyTimeout)
    {
        try
        {
            return OpenWith(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly }, busyTimeout, "", ReadOnlyMigrate);
        }
        catch (SqliteException e) when ((e.SqliteErrorCode & 0xff) is SqliteCantOpen or SqliteIoErr or SqliteReadOnly or SqliteFull
            && !HasUnmergedWal(path))
        {
            // Immutable reads the main file alone: right only when the WAL holds no frames (its last user merged them).
            var uri = "file:" + path.Replace("%", "%25", StringComparison.Ordinal).Replace("?", "%3f", StringComparison.Ordinal)
                .Replace("#", "%23", StringComparison.Ordinal) + "?immutable=1";
            return OpenWith(new SqliteConnectionStringBuilder { DataSource = uri, Mode = SqliteOpenMode.ReadOnly }, busyTimeout, "", ReadOnlyMigrate);
        }
        catch (SqliteException e) when ((e.SqliteErrorCode & 0xff) is SqliteCantOpen or SqliteIoErr)
        {
            // Reading the main file alone could show a state older than the last commit, or a torn one: say so instead.
            throw new StrataException(ErrorKind.Storage, $"the store's database ({path}) holds changes an interrupted writer left "
                + "in its WAL, which cannot be read without write access or free space: open the store once with both", e);
        }
    }

    /// <summary>Whether the WAL holds frames beyond its 32-byte header (a writer was killed before merging them).</summary>
    private static bool HasUnmergedWal(string path)
    {
        var wal = new FileInfo(path + "-wal");
        return wal.Exists && wal.Length > 32;
    }

    /// <summary>A read-only open migrates nothing (a current schema reads one pragma; an older one fails to write, clearly).</summary>
    private static void ReadOnlyMigrate(MetadataDb db) => MetadataSchema.Migrate(db, "", _ => null);

    private const int SqliteReadOnly = 8, SqliteIoErr = 10, SqliteFull = 13, SqliteCantOpen = 14;

    private static MetadataDb OpenWith(SqliteConnectionStringBuilder settings, TimeSpan busyTimeout, string pragmas, Action<MetadataDb> migrate)
    {
        // Both bounds: SQLite's busy handler, then Microsoft.Data.Sqlite's own retry of a busy statement.
        settings.Pooling = false;
        settings.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds));
        var db = new MetadataDb(new SqliteConnection(settings.ToString()));
        try
        {
            db._connection.Open();
            db.Execute($"PRAGMA busy_timeout = {(long)busyTimeout.TotalMilliseconds}; {pragmas}");
            migrate(db);
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
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
