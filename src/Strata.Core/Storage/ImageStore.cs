using System.Globalization;
using Microsoft.Data.Sqlite;
using Strata.Errors;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>Image records and their names. Content lives in the <see cref="ContentStore"/>; this is the index.</summary>
internal sealed class ImageStore(MetadataDb db)
{
    /// <summary>Records an image, what it references, and moves the given names to it, in one transaction.</summary>
    public void Put(Digest id, Digest manifestDigest, string manifestMediaType, DateTimeOffset? created, long size, IEnumerable<string> names, ImageRefs refs)
    {
        using var tx = db.BeginWrite();
        var now = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        db.Execute("""
            INSERT INTO images(id, manifest_digest, manifest_media_type, created, size, added)
            VALUES ($id, $m, $mt, $c, $s, $now)
            ON CONFLICT(id) DO UPDATE SET manifest_digest = $m, manifest_media_type = $mt, size = $s
            """, tx, ("$id", id.ToString()), ("$m", manifestDigest.ToString()), ("$mt", manifestMediaType),
            ("$c", created?.ToString("O", CultureInfo.InvariantCulture)), ("$s", size), ("$now", now));
        foreach (var name in names)
        {
            db.Execute("INSERT INTO names(name, image_id, added) VALUES ($n, $id, $now) ON CONFLICT(name) DO UPDATE SET image_id = $id, added = $now",
                tx, ("$n", name), ("$id", id.ToString()), ("$now", now));
        }
        // The same config under another manifest references other blobs: what it no longer names is garbage.
        db.Execute("DELETE FROM image_refs WHERE image_id = $id", tx, ("$id", id.ToString()));
        PutRefs(db, tx, id.ToString(), refs);
        tx.Commit();
    }

    internal static void PutRefs(MetadataDb db, SqliteTransaction tx, string id, ImageRefs refs)
    {
        foreach (var (kind, key) in refs.Blobs.Select(b => (RefKind.Blob, b)).Concat(refs.Chains.Select(c => (RefKind.Snapshot, c))))
            db.Execute("INSERT OR IGNORE INTO image_refs(image_id, kind, key) VALUES ($id, $k, $key)", tx,
                ("$id", id), ("$k", (long)kind), ("$key", key.ToString()));
    }

    /// <summary>What an image references (as recorded with it).</summary>
    public ImageRefs Refs(Digest id)
    {
        var blobs = new List<Digest>();
        var chains = new List<Digest>();
        using var cmd = db.Command("SELECT kind, key FROM image_refs WHERE image_id = $id", null, ("$id", id.ToString()));
        using var r = cmd.ExecuteReader();
        while (r.Read()) (r.GetInt64(0) == (long)RefKind.Blob ? blobs : chains).Add(Digest.Parse(r.GetString(1)));
        return new ImageRefs(blobs, chains);
    }

    /// <summary>Whether any image references the blob or snapshot.</summary>
    public bool IsReferenced(RefKind kind, string key) =>
        db.Scalar("SELECT 1 FROM image_refs WHERE kind = $k AND key = $key LIMIT 1", null, ("$k", (long)kind), ("$key", key)) is not null;

    /// <summary>Every key of a kind some image references (with every image's manifest, whatever its refs say).</summary>
    public HashSet<string> Referenced(RefKind kind)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        using var cmd = db.Command(kind == RefKind.Blob
            ? "SELECT key FROM image_refs WHERE kind = $k UNION SELECT manifest_digest FROM images"
            : "SELECT DISTINCT key FROM image_refs WHERE kind = $k", null, ("$k", (long)kind));
        using var r = cmd.ExecuteReader();
        while (r.Read()) keys.Add(r.GetString(0));
        return keys;
    }

    /// <summary>Moves a name to an image, in one statement that finds the image or fails: a tag racing an rmi never brings the image back.</summary>
    public void AddName(Digest id, string name)
    {
        int added = db.Execute("""
            INSERT INTO names(name, image_id, added) SELECT $n, $id, $now WHERE EXISTS (SELECT 1 FROM images WHERE id = $id)
            ON CONFLICT(name) DO UPDATE SET image_id = $id, added = $now
            """, null, ("$n", name), ("$id", id.ToString()), ("$now", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)));
        if (added == 0) throw StrataException.NotFound($"image {id.Short} not known (removed meanwhile?)");
    }

    public void RemoveName(string name) => db.Execute("DELETE FROM names WHERE name = $n", null, ("$n", name));

    /// <summary>
    /// Deletes an image unless a container uses it or (with <paramref name="onlyWithNames"/>) it has a name not in
    /// that list, in one statement: a create or tag racing this either came first (false: the image stays) or finds
    /// the image gone (<see cref="ContainerRecords.TryAdd"/>, <see cref="AddName"/>).
    /// </summary>
    public bool DeleteUnused(Digest id, IReadOnlyList<string>? onlyWithNames) =>
        db.Execute("""
            DELETE FROM images WHERE id = $id
            AND NOT EXISTS (SELECT 1 FROM containers WHERE image_id = $id)
            AND ($known IS NULL OR NOT EXISTS (SELECT 1 FROM names WHERE image_id = $id AND name NOT IN (SELECT value FROM json_each($known))))
            """, null, ("$id", id.ToString()),
            ("$known", onlyWithNames is null ? null : System.Text.Json.JsonSerializer.Serialize(onlyWithNames.ToList(), OciJsonContext.Default.ListString))) > 0;

    public ImageRecord? Get(Digest id) => Query("WHERE i.id = $p", id.ToString()).FirstOrDefault();

    public IReadOnlyList<ImageRecord> List() => Query("", null);

    public Digest? FindByName(string name) =>
        db.Scalar("SELECT image_id FROM names WHERE name = $n", null, ("$n", name)) is string s ? Digest.Parse(s) : null;

    /// <summary>Image IDs whose hex starts with the prefix (docker accepts unique ID prefixes).</summary>
    public IReadOnlyList<Digest> FindByIdPrefix(string hexPrefix)
    {
        using var cmd = db.Command("SELECT id FROM images WHERE id >= $lo AND id < $hi", null,
            ("$lo", "sha256:" + hexPrefix), ("$hi", "sha256:" + hexPrefix + "~"));
        using var r = cmd.ExecuteReader();
        var list = new List<Digest>();
        while (r.Read()) list.Add(Digest.Parse(r.GetString(0)));
        return list;
    }

    public IReadOnlyList<ImageRecord> FindByManifest(Digest manifest) => Query("WHERE i.manifest_digest = $p", manifest.ToString());

    public void PutLayerInfo(Digest blob, Digest diffId, long uncompressedSize) =>
        db.Execute("INSERT OR REPLACE INTO layer_info(blob_digest, diff_id, uncompressed_size) VALUES ($b, $d, $s)",
            null, ("$b", blob.ToString()), ("$d", diffId.ToString()), ("$s", uncompressedSize));

    /// <summary>A layer's uncompressed size when known, else its blob's size.</summary>
    public long LayerSize(Descriptor layer) => GetLayerInfo(layer.Digest)?.UncompressedSize ?? layer.Size;

    /// <summary>Every recorded blob of one layer content (its compressed and uncompressed forms).</summary>
    public IReadOnlyList<Digest> BlobsWithDiffId(Digest diffId)
    {
        using var cmd = db.Command("SELECT blob_digest FROM layer_info WHERE diff_id = $d ORDER BY blob_digest", null, ("$d", diffId.ToString()));
        using var r = cmd.ExecuteReader();
        var result = new List<Digest>();
        while (r.Read()) result.Add(Digest.Parse(r.GetString(0)));
        return result;
    }

    public (Digest DiffId, long UncompressedSize)? GetLayerInfo(Digest blob)
    {
        using var cmd = db.Command("SELECT diff_id, uncompressed_size FROM layer_info WHERE blob_digest = $b", null, ("$b", blob.ToString()));
        using var r = cmd.ExecuteReader();
        return r.Read() ? (Digest.Parse(r.GetString(0)), r.GetInt64(1)) : null;
    }

    private List<ImageRecord> Query(string where, string? p)
    {
        using var cmd = db.Command($"""
            SELECT i.id, i.manifest_digest, i.manifest_media_type, i.created, i.size,
                   (SELECT group_concat(n.name, char(10)) FROM (SELECT name FROM names WHERE image_id = i.id ORDER BY added, name) n)
            FROM images i {where} ORDER BY i.added DESC, i.id
            """, null, ("$p", p));
        using var r = cmd.ExecuteReader();
        var list = new List<ImageRecord>();
        while (r.Read())
        {
            list.Add(new ImageRecord(
                Digest.Parse(r.GetString(0)), Digest.Parse(r.GetString(1)), r.GetString(2),
                r.IsDBNull(3) ? null : DateTimeOffset.Parse(r.GetString(3), CultureInfo.InvariantCulture),
                r.GetInt64(4),
                r.IsDBNull(5) ? [] : r.GetString(5).Split('\n')));
        }
        return list;
    }
}
