using Strata.Oci;

namespace Strata.Storage;

/// <summary>Mark and sweep over the content store: a blob stays while any image's manifest reaches it.</summary>
internal static class GarbageCollector
{
    public static (int Blobs, long Bytes) Collect(StrataStore store)
    {
        using var exclusive = StoreLock.Exclusive(store.Root);
        // A crashed writer leaves at most an ingest file; nothing visible refers to it.
        store.Content.CleanIngest(TimeSpan.FromHours(1));
        // One pass over the images marks both what they reference: blobs, and the layer chains they stack.
        var live = new HashSet<Digest>();
        var liveChains = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in store.Images.List())
        {
            live.Add(record.ManifestDigest);
            if (!store.Content.Exists(record.ManifestDigest)) continue;
            var image = LocalImage.Load(store, record);
            live.Add(image.Manifest.Config.Digest);
            foreach (var l in image.Manifest.Layers) live.Add(l.Digest);
            foreach (var chain in ChainId.Compute(image.Config.RootFs.DiffIds)) liveChains.Add(chain.ToString());
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
        bytes += CollectLayers(store, liveChains);
        return (count, bytes);
    }

    /// <summary>Unpacked layers no image's chain reaches (containers keep their image, so its chain too).</summary>
    private static long CollectLayers(StrataStore store, HashSet<string> live)
    {
        var home = Path.Combine(store.Root, "overlay");
        long freed = 0;
        foreach (var layer in store.Layers.List().Where(l => !live.Contains(l.ChainId.ToString())))
        {
            // Row first: a crash after it leaves only an unnamed directory, never a row without its files.
            store.Layers.Delete(layer.ChainId);
            File.Delete(Path.Combine(home, "l", layer.Link));
            if (Directory.Exists(Path.Combine(home, layer.Dir))) Directory.Delete(Path.Combine(home, layer.Dir), recursive: true);
            freed += layer.Size;
        }
        // Flattened bottoms of very deep stacks (overlay/flat-CHAINID) go with their chain.
        if (Directory.Exists(home))
            foreach (var flat in Directory.EnumerateDirectories(home, "flat-*"))
                if (!live.Contains("sha256:" + Path.GetFileName(flat)["flat-".Length..])) Directory.Delete(flat, recursive: true);
        return freed;
    }
}
