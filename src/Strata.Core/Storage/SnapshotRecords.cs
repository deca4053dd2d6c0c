using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Strata.Storage;

/// <summary>The states a snapshot row is in (the snapshot API's kinds, kept here so storage depends on nothing above it).</summary>
internal enum SnapshotState
{
    Active = 0,
    View = 1,
    Committed = 2,
}

/// <summary>A snapshot as Strata's own snapshotters record it.</summary>
/// <param name="Dir">Its directory, relative to the store root; null for a view, which has nothing of its own.</param>
/// <param name="Link">overlay: its short name under overlay/l/ (mount options stay short); null otherwise.</param>
/// <param name="Size">Bytes, measured at commit; null until then.</param>
/// <param name="Inodes">Files and directories, counted at commit; null until then.</param>
/// <param name="Tree">The digest of its tree's record, made at commit (null until then, or for a layer committed before schema 6).</param>
internal sealed record SnapshotRecord(string Key, string? Parent, SnapshotState State, string? Dir, string? Link, long? Size, long? Inodes, DateTimeOffset Created,
    string? Tree = null);

/// <summary>The snapshots table: layers (committed, keyed by ChainID), containers' and unpacks' writable layers, views.</summary>
internal sealed class SnapshotRecords(MetadataDb db)
{
    private const string Columns = "key, parent, state, dir, link, size, inodes, created, tree";

    public SnapshotRecord? Get(string key) => Query("WHERE key = $p", key).FirstOrDefault();

    public IReadOnlyList<SnapshotRecord> List() => Query("", null);

    /// <summary>The snapshot and its ancestors, itself first; empty when there is no such key.</summary>
    public IReadOnlyList<SnapshotRecord> Chain(string key)
    {
        using var cmd = db.Command($"""
            WITH RECURSIVE chain(k, depth) AS (SELECT $p, 0 UNION ALL SELECT s.parent, depth + 1 FROM snapshots s JOIN chain ON s.key = chain.k WHERE s.parent IS NOT NULL)
            SELECT {Columns} FROM snapshots JOIN chain ON key = chain.k ORDER BY depth
            """, null, ("$p", key));
        return Read(cmd);
    }

    public bool HasChildren(string key) =>
        db.Scalar("SELECT 1 FROM snapshots WHERE parent = $p LIMIT 1", null, ("$p", key)) is not null;

    /// <summary>Records a snapshot; false when its key is taken.</summary>
    public bool TryAdd(SnapshotRecord s)
    {
        try
        {
            db.Execute($"INSERT INTO snapshots({Columns}) VALUES ($k, $p, $s, $d, $l, $z, $i, $c, $t)", null,
                ("$k", s.Key), ("$p", s.Parent), ("$s", (long)s.State), ("$d", s.Dir), ("$l", s.Link), ("$z", s.Size), ("$i", s.Inodes),
                ("$c", s.Created.ToString("O", CultureInfo.InvariantCulture)), ("$t", s.Tree));
            return true;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19)
        {
            return false;
        }
    }

    /// <summary>Renames an active snapshot to a committed one; false when the name is taken.</summary>
    public bool Commit(string key, string name, long size, long inodes, string? tree)
    {
        try
        {
            return db.Execute("UPDATE snapshots SET key = $n, state = $s, size = $z, inodes = $i, tree = $t WHERE key = $k AND state = $a", null,
                ("$n", name), ("$s", (long)SnapshotState.Committed), ("$z", size), ("$i", inodes), ("$t", tree), ("$k", key), ("$a", (long)SnapshotState.Active)) > 0;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19)
        {
            return false;
        }
    }

    /// <summary>Records a committed snapshot's tree digest where none was (a layer committed before schema 6).</summary>
    public void SetTree(string key, string tree) =>
        db.Execute("UPDATE snapshots SET tree = $t WHERE key = $k AND tree IS NULL", null, ("$t", tree), ("$k", key));

    public void Delete(string key) => db.Execute("DELETE FROM snapshots WHERE key = $k", null, ("$k", key));

    private List<SnapshotRecord> Query(string where, string? p)
    {
        using var cmd = db.Command($"SELECT {Columns} FROM snapshots {where}", null, ("$p", p));
        return Read(cmd);
    }

    private static List<SnapshotRecord> Read(SqliteCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<SnapshotRecord>();
        while (r.Read())
            list.Add(new SnapshotRecord(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), (SnapshotState)r.GetInt64(2),
                r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetInt64(5),
                r.IsDBNull(6) ? null : r.GetInt64(6), DateTimeOffset.Parse(r.GetString(7), CultureInfo.InvariantCulture), r.IsDBNull(8) ? null : r.GetString(8)));
        return list;
    }
}
