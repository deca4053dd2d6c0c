using Strata.Oci;
using Strata.Storage;

namespace Strata.Registry;

/// <summary>Which repositories of which registries hold a blob (learnt by pulls and pushes), for cross-repository mounts.</summary>
public static class BlobSources
{
    public static void Record(MetadataDb db, string registry, string repository, IEnumerable<Digest> blobs)
    {
        using var tx = db.BeginWrite();
        foreach (var d in blobs)
            db.Execute("INSERT OR IGNORE INTO blob_sources(digest, registry, repository) VALUES ($d, $r, $p)", tx,
                ("$d", d.ToString()), ("$r", registry), ("$p", repository));
        tx.Commit();
    }

    /// <summary>Another repository of the registry known to have the blob, or null.</summary>
    public static string? Find(MetadataDb db, Digest blob, string registry, string exceptRepository)
    {
        using var cmd = db.Command("SELECT repository FROM blob_sources WHERE digest = $d AND registry = $r AND repository <> $p LIMIT 1", null,
            ("$d", blob.ToString()), ("$r", registry), ("$p", exceptRepository));
        return cmd.ExecuteScalar() as string;
    }
}
