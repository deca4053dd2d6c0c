using Microsoft.Data.Sqlite;

namespace Strata.Storage;

/// <summary>
/// The store's metadata in SQLite (WAL): transactions keep several strata processes on one root consistent,
/// and a kill -9 at any moment leaves either the old or the new state.
/// </summary>
internal sealed class MetadataDb : IDisposable
{
    private readonly SqliteConnection _connection;

    private MetadataDb(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens (or makes) the database and brings its schema up to date (one pragma read when it is).</summary>
    public static MetadataDb Open(string path, string root, Func<string, string?> topChainOf)
    {
        // Mode is left at its default (ReadWriteCreate): setting an enum keyword formats it through Enum.ToString,
        // whose first use costs a NativeAOT start-up about 0.2 ms of reflection.
        var db = new MetadataDb(new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString()));
        try
        {
            db._connection.Open();
            db.Execute("PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
            MetadataSchema.Migrate(db, root, topChainOf);
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
