using Strata.Oci;

namespace Strata.Storage;

/// <summary>Mark and sweep over the content store: a blob stays while any image's manifest reaches it.</summary>
public static class GarbageCollector
{
    public static (int Blobs, long Bytes) Collect(StrataStore store)
    {
        using var exclusive = StoreLock.Exclusive(store.Root);
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
        using var cmd = store.Db.Command("SELECT chain_id, dir, link, size FROM layers", null);
        var dead = new List<(string Chain, string Dir, string Link, long Size)>();
        using (var r = cmd.ExecuteReader())
            while (r.Read())
                if (!live.Contains(r.GetString(0))) dead.Add((r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
        foreach (var (chain, dir, link, size) in dead)
        {
            // Row first: a crash after it leaves only an unnamed directory, never a row without its files.
            store.Db.Execute("DELETE FROM layers WHERE chain_id = $c", null, ("$c", chain));
            File.Delete(Path.Combine(home, "l", link));
            if (Directory.Exists(Path.Combine(home, dir))) Directory.Delete(Path.Combine(home, dir), recursive: true);
            freed += size;
        }
        // Flattened bottoms of very deep stacks (overlay/flat-CHAINID) go with their chain.
        if (Directory.Exists(home))
            foreach (var flat in Directory.EnumerateDirectories(home, "flat-*"))
                if (!live.Contains("sha256:" + Path.GetFileName(flat)["flat-".Length..])) Directory.Delete(flat, recursive: true);
        return freed;
    }
}
