namespace Strata.Storage;

/// <summary>
/// Collection of the content store: a blob goes when no image references it and no lease holds it. The caller holds
/// the store lock exclusive and has dropped dead leases (<see cref="Lease.ExpireDead"/>); the snapshots are collected
/// by the layer store with what this returns.
/// </summary>
internal static class GarbageCollector
{
    /// <summary>Every blob nothing holds (prune): a sweep of the blobs against two lookups, no image's documents read.</summary>
    public static (int Blobs, long Bytes) CollectAll(StrataStore store)
    {
        // A crashed writer leaves at most an ingest file; nothing visible refers to it.
        store.Content.CleanIngest(TimeSpan.FromHours(1));
        var live = store.Images.Referenced(RefKind.Blob);
        live.UnionWith(store.Leases.Held(RefKind.Blob));
        return Delete(store, store.Content.List().Where(d => !live.Contains(d.ToString())));
    }

    /// <summary>Of the given blobs (what a removed image referenced), those nothing holds: work in proportion to them.</summary>
    public static (int Blobs, long Bytes) Collect(StrataStore store, IEnumerable<Oci.Digest> candidates) =>
        Delete(store, candidates.Where(d => !store.Images.IsReferenced(RefKind.Blob, d.ToString()) && !store.Leases.IsHeld(RefKind.Blob, d.ToString())));

    private static (int Blobs, long Bytes) Delete(StrataStore store, IEnumerable<Oci.Digest> garbage)
    {
        int count = 0;
        long bytes = 0;
        foreach (var d in garbage.ToList())
        {
            if (store.Content.GetSize(d) is not { } size) continue;
            store.Content.Delete(d);
            bytes += size;
            count++;
        }
        return (count, bytes);
    }
}
