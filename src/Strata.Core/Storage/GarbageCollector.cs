using Strata.Oci;

namespace Strata.Storage;

/// <summary>
/// Mark and sweep over the content store: a blob stays while any image's manifest reaches it. The caller holds
/// the store lock exclusive and sweeps the unpacked layers with the chains this marks.
/// </summary>
internal static class GarbageCollector
{
    public static (int Blobs, long Bytes, IReadOnlySet<Digest> LiveChains) Collect(StrataStore store)
    {
        // A crashed writer leaves at most an ingest file; nothing visible refers to it.
        store.Content.CleanIngest(TimeSpan.FromHours(1));
        // One pass over the images marks both what they reference: blobs, and the layer chains they stack.
        var live = new HashSet<Digest>();
        var liveChains = new HashSet<Digest>();
        foreach (var record in store.Images.List())
        {
            live.Add(record.ManifestDigest);
            if (!store.Content.Exists(record.ManifestDigest)) continue;
            var image = LocalImage.Load(store, record);
            live.Add(image.Manifest.Config.Digest);
            foreach (var l in image.Manifest.Layers) live.Add(l.Digest);
            foreach (var chain in ChainId.Compute(image.Config.RootFs.DiffIds)) liveChains.Add(chain);
        }
        int count = 0;
        long bytes = 0;
        foreach (var d in store.Content.List())
        {
            if (live.Contains(d)) continue;
            bytes += store.Content.GetSize(d) ?? 0;
            store.Content.Delete(d);
            count++;
        }
        return (count, bytes, liveChains);
    }
}
