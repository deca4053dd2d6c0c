using Strata.Oci;
using Strata.Storage;

namespace Strata.Union;

/// <summary>One image's disk use.</summary>
/// <param name="Image">The image.</param>
/// <param name="Size">Its layers' unpacked size.</param>
/// <param name="SharedSize">The part in layers other images stack too.</param>
/// <param name="UniqueSize">The part only this image stacks (what removing it frees).</param>
/// <param name="Containers">How many containers use it.</param>
public sealed record ImageUsage(ImageRecord Image, long Size, long SharedSize, long UniqueSize, int Containers);

/// <summary>One container's disk use.</summary>
/// <param name="Container">The container.</param>
/// <param name="Size">Its writable layer's size.</param>
public sealed record ContainerUsage(Container Container, long Size);

/// <summary>Per image and container, and the images' total with every shared layer counted once.</summary>
public sealed record SpaceReport(IReadOnlyList<ImageUsage> Images, IReadOnlyList<ContainerUsage> Containers, long ImagesTotal)
{
    /// <summary>What removing every image no container uses would free: their unique layers.</summary>
    public long ImagesReclaimable => Images.Where(i => i.Containers == 0).Sum(i => i.UniqueSize);

    /// <summary>
    /// How many things interrupted or finished operations left that nothing uses (blobs no image references, ingest
    /// files, unpacks and directories no live process holds): all of it goes at the next prune.
    /// </summary>
    public int LeftoverCount { get; init; }

    /// <summary>The bytes of <see cref="LeftoverCount"/>'s leftovers: what a prune frees beyond images.</summary>
    public long LeftoverSize { get; init; }
}

/// <summary>
/// docker system df: an image's size is its layers'; a layer other images also stack counts as shared,
/// the rest is unique; a container's size is its writable layer's.
/// </summary>
internal static class SpaceUsage
{
    public static SpaceReport Measure(StrataStore store, ContainerStore containers)
    {
        var records = store.Images.List();
        var chains = new Dictionary<Digest, List<(Digest Chain, long Size)>>();
        var users = new Dictionary<Digest, int>();
        foreach (var r in records)
        {
            var image = LocalImage.Load(store, r);
            var list = new List<(Digest, long)>();
            var ids = ChainId.Compute(image.Config.RootFs.DiffIds);
            for (int i = 0; i < ids.Count; i++)
            {
                var blob = image.Manifest.Layers[i];
                list.Add((ids[i], store.Images.LayerSize(blob)));
                users[ids[i]] = users.GetValueOrDefault(ids[i]) + 1;
            }
            chains[r.Id] = list;
        }
        var all = containers.List();
        var images = records.Select(r =>
        {
            var layers = chains[r.Id].DistinctBy(l => l.Chain).ToList();
            long size = layers.Sum(l => l.Size);
            long shared = layers.Where(l => users[l.Chain] > 1).Sum(l => l.Size);
            return new ImageUsage(r, size, shared, size - shared, all.Count(c => c.ImageId == r.Id));
        }).ToList();
        var cs = all.Select(c => new ContainerUsage(c, containers.WritableSize(c))).ToList();
        long total = chains.Values.SelectMany(l => l).DistinctBy(l => l.Chain).Sum(l => l.Size);
        var dead = Lease.Dead(store);
        var (blobs, blobBytes) = GarbageCollector.Garbage(store, dead);
        var (trees, treeBytes) = containers.Garbage(dead);
        return new SpaceReport(images, cs, total) { LeftoverCount = blobs + trees, LeftoverSize = blobBytes + treeBytes };
    }
}
