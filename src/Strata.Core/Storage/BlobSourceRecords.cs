using Strata.Oci;

namespace Strata.Storage;

/// <summary>Which repositories of which registries hold a blob (learnt by pulls and pushes), for cross-repository mounts.</summary>
internal sealed class BlobSourceRecords(MetadataDb db)
{
    public void Add(string registry, string repository, IEnumerable<Digest> blobs)
    {
        using var tx = db.BeginWrite();
        foreach (var d in blobs)
            db.Execute("INSERT OR IGNORE INTO blob_sources(digest, registry, repository) VALUES ($d, $r, $p)", tx,
                ("$d", d.ToString()), ("$r", registry), ("$p", repository));
        tx.Commit();
    }

    /// <summary>Another repository of the registry known to have the blob, or null.</summary>
    public string? Find(Digest blob, string registry, string exceptRepository) =>
        db.Scalar("SELECT repository FROM blob_sources WHERE digest = $d AND registry = $r AND repository <> $p LIMIT 1", null,
            ("$d", blob.ToString()), ("$r", registry), ("$p", exceptRepository)) as string;
}
