namespace Strata.Storage;

/// <summary>
/// Collection of the content store: a blob goes when no image references it and no lease holds it. The caller holds
/// the store lock exclusive and has dropped dead leases (<see cref="Lease.ExpireDead"/>); the snapshots are collected
/// by the layer store with what this returns.
/// </summary>
internal static class GarbageCollector
{
    /// <summary>How long a collection after rmi keeps a killed pull's partial download for a retried pull to resume.</summary>
    public static readonly TimeSpan PartialsKept = TimeSpan.FromHours(1);

    /// <summary>
    /// Every blob nothing holds (prune): a sweep of the blobs against two lookups, no image's documents read; and every
    /// ingest file no process holds, partial downloads too once <paramref name="partialsOlderThan"/> old.
    /// </summary>
    public static (int Blobs, long Bytes) CollectAll(StrataStore store, TimeSpan partialsOlderThan)
    {
        store.Content.CleanIngest(partialsOlderThan);
        var live = store.Images.Referenced(RefKind.Blob);
        live.UnionWith(store.Leases.Held(RefKind.Blob));
        return Delete(store, store.Content.List().Where(d => !live.Contains(d.ToString())));
    }

    /// <summary>
    /// Of the given blobs (what a removed image referenced), those nothing holds: work in proportion to them (and to
    /// the ingest files, which a killed writer leaves).
    /// </summary>
    public static (int Blobs, long Bytes) Collect(StrataStore store, IEnumerable<Oci.Digest> candidates)
    {
        store.Content.CleanIngest(PartialsKept);
        return Delete(store, candidates.Where(d => !store.Images.IsReferenced(RefKind.Blob, d.ToString()) && !store.Leases.IsHeld(RefKind.Blob, d.ToString())));
    }

    /// <summary>
    /// What a prune would free of the content store, found without changing anything (df's leftovers): blobs no image
    /// references and no live lease holds, and ingest files no live process writes.
    /// </summary>
    public static (int Items, long Bytes) Garbage(StrataStore store, IReadOnlySet<string> deadLeases)
    {
        var live = store.Images.Referenced(RefKind.Blob);
        live.UnionWith(store.Leases.Held(RefKind.Blob, deadLeases));
        var blobs = store.Content.List().Where(d => !live.Contains(d.ToString())).Select(d => store.Content.GetSize(d) ?? 0).ToList();
        var ingest = store.Content.Abandoned().ToList();
        return (blobs.Count + ingest.Count, blobs.Sum() + ingest.Sum());
    }

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
