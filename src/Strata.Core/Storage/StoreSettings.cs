using Microsoft.Data.Sqlite;

namespace Strata.Storage;

/// <summary>The settings table: facts a store fixes once (its driver, its layers' form).</summary>
internal sealed class StoreSettings(MetadataDb db)
{
    public const string Driver = "driver", LayerForm = "layer_form";

    public SqliteTransaction BeginWrite() => db.BeginWrite();

    public string? Get(string key, SqliteTransaction? tx = null) =>
        db.Scalar("SELECT value FROM settings WHERE key = $k", tx, ("$k", key)) as string;

    public void Add(string key, string value, SqliteTransaction? tx) =>
        db.Execute("INSERT INTO settings(key, value) VALUES ($k, $v)", tx, ("$k", key), ("$v", value));
}
