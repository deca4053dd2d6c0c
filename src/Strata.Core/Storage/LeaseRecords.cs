using System.Globalization;

namespace Strata.Storage;

/// <summary>What a reference names: a blob by digest, or a snapshot by key.</summary>
internal enum RefKind
{
    Blob = 0,
    Snapshot = 1,
}

/// <summary>
/// The leases and lease_refs tables: what operations in flight hold, so a collection running beside them keeps it.
/// A lease's row lives as long as its holder (see <see cref="Lease"/>); its references go with it.
/// </summary>
internal sealed class LeaseRecords(MetadataDb db)
{
    public void Add(string id) =>
        db.Execute("INSERT INTO leases(id, created) VALUES ($id, $now)", null,
            ("$id", id), ("$now", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)));

    public void Hold(string id, RefKind kind, string key) =>
        db.Execute("INSERT OR IGNORE INTO lease_refs(lease_id, kind, key) VALUES ($id, $k, $key)", null,
            ("$id", id), ("$k", (long)kind), ("$key", key));

    /// <summary>Holds several at once, in one transaction.</summary>
    public void Hold(string id, RefKind kind, IEnumerable<string> keys)
    {
        using var tx = db.BeginWrite();
        foreach (var key in keys)
            db.Execute("INSERT OR IGNORE INTO lease_refs(lease_id, kind, key) VALUES ($id, $k, $key)", tx,
                ("$id", id), ("$k", (long)kind), ("$key", key));
        tx.Commit();
    }

    /// <summary>Ends a lease; its references go with it (ON DELETE CASCADE).</summary>
    public void Delete(string id) => db.Execute("DELETE FROM leases WHERE id = $id", null, ("$id", id));

    public IReadOnlyList<string> List()
    {
        var ids = new List<string>();
        using var cmd = db.Command("SELECT id FROM leases", null);
        using var r = cmd.ExecuteReader();
        while (r.Read()) ids.Add(r.GetString(0));
        return ids;
    }

    public bool IsHeld(RefKind kind, string key) =>
        db.Scalar("SELECT 1 FROM lease_refs WHERE kind = $k AND key = $key LIMIT 1", null, ("$k", (long)kind), ("$key", key)) is not null;

    /// <summary>Every key of a kind some lease holds (but those of <paramref name="except"/>: leases known dead).</summary>
    public HashSet<string> Held(RefKind kind, IReadOnlySet<string>? except = null)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        using var cmd = db.Command("SELECT lease_id, key FROM lease_refs WHERE kind = $k", null, ("$k", (long)kind));
        using var r = cmd.ExecuteReader();
        while (r.Read())
            if (except is null || !except.Contains(r.GetString(0))) keys.Add(r.GetString(1));
        return keys;
    }
}
