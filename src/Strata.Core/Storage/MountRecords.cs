using Microsoft.Data.Sqlite;

namespace Strata.Storage;

/// <summary>The mounts table: how many users count on each mount target. Callers hold a write transaction around a mount.</summary>
internal sealed class MountRecords(MetadataDb db)
{
    public SqliteTransaction BeginWrite() => db.BeginWrite();

    public long Count(string target, SqliteTransaction? tx) =>
        db.Scalar("SELECT count FROM mounts WHERE target = $t", tx, ("$t", target)) is long c ? c : 0;

    public void Set(string target, long count, SqliteTransaction? tx) =>
        db.Execute("INSERT INTO mounts(target, count) VALUES ($t, $c) ON CONFLICT(target) DO UPDATE SET count = $c", tx, ("$t", target), ("$c", count));

    public void Delete(string target, SqliteTransaction? tx) => db.Execute("DELETE FROM mounts WHERE target = $t", tx, ("$t", target));

    public IReadOnlyList<string> Targets(SqliteTransaction? tx = null)
    {
        var targets = new List<string>();
        using var cmd = db.Command("SELECT target FROM mounts", tx);
        using var r = cmd.ExecuteReader();
        while (r.Read()) targets.Add(r.GetString(0));
        return targets;
    }
}
