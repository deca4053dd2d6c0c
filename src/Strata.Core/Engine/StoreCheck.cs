using Strata.Errors;
using Strata.Oci;
using Strata.Snapshots;
using Strata.Storage;
using Strata.Union;

namespace Strata.Engine;

/// <summary>
/// podman system check: the store's content against its digests, unpacked layers against what was unpacked, and its
/// metadata against the disk, each problem one line; with repair, what is damaged and cannot be rebuilt goes (a damaged
/// blob, an image that lost one, a damaged layer or one whose row has no files, which the next create or pull unpacks
/// again, files and rows nothing names). Runs with the store lock shared (exclusive to repair), so operations go on
/// beside it but no collection removes what it is checking; what a live process is still making is not reported.
/// </summary>
internal sealed partial class StoreCheck(StrataStore store, ContainerStore containers, bool repair, bool quick)
{
    private readonly List<StoreProblem> _problems = [];
    private readonly List<Digest> _removedImages = [];

    public CheckReport Run(CancellationToken cancellationToken)
    {
        // Shared while it only looks: operations go on beside it (taking their leases), and no collection removes
        // what it is checking midway; exclusive when it repairs.
        using var storeLock = repair ? StoreLock.Exclusive(store) : StoreLock.Shared(store);
        var walks = StartWalks(cancellationToken);
        try
        {
            CheckImages(CheckBlobs(cancellationToken));
            CheckSnapshots();
            CheckLayers(walks);
            CheckContainers();
        }
        catch
        {
            // Nothing outlives the lock: the walks (told of a cancel by the same token) end first.
            walks?.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Wait(CancellationToken.None);
            throw;
        }
        return new CheckReport(_problems, _removedImages);
    }

    private void Report(string subject, string problem, bool repaired) => _problems.Add(new StoreProblem(subject, problem, repaired));

    /// <summary>Every blob hashed against its name (quick: only that it is there and readable).</summary>
    private HashSet<Digest> CheckBlobs(CancellationToken cancellationToken)
    {
        if (quick) return [];
        // In parallel, bounded by the CPUs: one large blob is hashed at one core's speed, many reach the disk's.
        var all = store.Content.List().OrderByDescending(d => store.Content.GetSize(d) ?? 0).ToList(); // largest first: no long tail
        var damaged = new System.Collections.Concurrent.ConcurrentDictionary<Digest, bool>();
        Parallel.ForEach(all, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            d => { if (store.Content.Rehash(d) != d) damaged[d] = true; });
        foreach (var d in all.Where(damaged.ContainsKey))
        {
            if (repair) store.Content.Delete(d);
            Report($"blob {d}", "its content does not match its digest", repair);
        }
        return damaged.Keys.ToHashSet();
    }

    /// <summary>Every image's manifest, config and layer blobs present and whole.</summary>
    private void CheckImages(HashSet<Digest> damaged)
    {
        foreach (var record in store.Images.List())
        {
            var subject = $"image {(record.Names.Count > 0 ? record.Names[0] : record.Id.Short)}";
            string? problem;
            try
            {
                var image = LocalImage.Load(store, record);
                problem = image.Manifest.Layers.Select(l => l.Digest).Prepend(image.Manifest.Config.Digest).Prepend(record.ManifestDigest)
                    .Select(d => damaged.Contains(d) ? $"blob {d.Short} is damaged" : !store.Content.Exists(d) ? $"blob {d.Short} is missing" : null)
                    .FirstOrDefault(p => p is not null);
            }
            catch (Exception e) when (e is StrataException or IOException)
            {
                problem = e.Message;
            }
            if (problem is null) continue;
            bool removed = repair && store.Images.DeleteUnused(record.Id, null);
            if (removed) _removedImages.Add(record.Id);
            var users = repair && !removed ? $"; in use by containers {string.Join(", ", store.Containers.ByImage(record.Id).Select(c => c.Name))}: remove them to repair it" : "";
            Report(subject, $"{problem}: the image is unusable{users}", removed);
        }
    }

    /// <summary>Rows without files and files without rows (Strata's own snapshotters; another's keeps its own books).</summary>
    private void CheckSnapshots()
    {
        if (containers.Snapshotter is not DirectorySnapshotter snapshotter) return;
        foreach (var s in store.Snapshots.List().Where(s => !snapshotter.HasFiles(s)))
        {
            bool repaired = repair && TryRemove(snapshotter, s.Key);
            Report($"snapshot {s.Key}", $"its directory {s.Dir} is missing" + (s.State == SnapshotState.Committed ? " (the layer is unpacked again when next needed)" : ""), repaired);
        }
        foreach (var dir in snapshotter.Orphans())
        {
            bool repaired = repair && IO.OwnerLock.TryRemoveAbandoned(dir);
            Report($"directory {Path.GetRelativePath(store.Root, dir)}", "no snapshot names it", repaired);
        }
    }

    /// <summary>Every container on its writable layer, every writable layer of a container.</summary>
    private void CheckContainers()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in containers.List())
        {
            ids.Add(c.Id);
            if (containers.Snapshotter.Stat(c.Id) is not null) continue;
            if (repair) containers.Remove(c, force: true);
            Report($"container {c.Name}", "its writable layer is missing: the container is unusable", repair);
        }
        foreach (var s in containers.Snapshotter.List().Where(s => s.Kind == SnapshotKind.Active && !ids.Contains(s.Key)))
        {
            if (containers.IsInFlight(s)) continue;
            bool unpack = s.Key.StartsWith(LayerStore.ExtractPrefix, StringComparison.Ordinal);
            bool repaired = repair && TryRemove(containers.Snapshotter, s.Key);
            Report($"snapshot {s.Key}", unpack ? "an unpack a killed process left" : "a writable layer of no container", repaired);
        }
    }

    private static bool TryRemove(ISnapshotter snapshotter, string key)
    {
        try
        {
            snapshotter.Remove(key);
            return true;
        }
        catch (StrataException e) when (e.Kind == ErrorKind.FailedPrecondition)
        {
            return false; // its children keep it: they are reported on their own
        }
    }
}
