using Strata.Oci;

namespace Strata.Storage;

/// <summary>Mark and sweep over the content store: a blob stays while any image's manifest reaches it.</summary>
public static class GarbageCollector
{
    public static (int Blobs, long Bytes) Collect(StrataStore store)
    {
        using var exclusive = StoreLock.Exclusive(store.Root);
        var live = new HashSet<Digest>();
        foreach (var record in store.Images.List())
        {
            live.Add(record.ManifestDigest);
            if (!store.Content.Exists(record.ManifestDigest)) continue;
            var manifest = OciDocuments.ParseManifest(store.Content.ReadAll(record.ManifestDigest));
            live.Add(manifest.Config.Digest);
            foreach (var l in manifest.Layers) live.Add(l.Digest);
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
        return (count, bytes);
    }
}
