using System.Security.Cryptography;
using Strata.Errors;
using Strata.Oci;
using Strata.Snapshots;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// Image layers as committed snapshots keyed by ChainID, unpacked once and shared by every image and container
/// that stacks them. A layer is applied into an active snapshot "extract-RANDOM CHAINID" and committed under its
/// ChainID, so it is visible whole or not at all; a crash leaves only the extract snapshot, which the next collection removes once its lease is dead.
/// </summary>
internal sealed class LayerStore(StrataStore store, ISnapshotter snapshotter, bool rootless)
{
    /// <summary>Prefix of the keys of layers being unpacked.</summary>
    public const string ExtractPrefix = "extract-";

    public ISnapshotter Snapshotter => snapshotter;

    /// <summary>The image's layers' ChainIDs, base first, unpacking those the store does not have yet.</summary>
    public IReadOnlyList<Digest> EnsureImage(LocalImage image, Action<string>? progress = null)
    {
        var result = new List<Digest>();
        for (int i = 0; i < image.Manifest.Layers.Count; i++)
            result.Add(EnsureLayer(image.Manifest.Layers[i], image.Config.RootFs.DiffIds[i], result.Count > 0 ? result[^1] : null, progress));
        return result;
    }

    /// <summary>One layer on <paramref name="parent"/> (a ChainID), unpacked unless the store has its ChainID. Returns the ChainID.</summary>
    public Digest EnsureLayer(Descriptor desc, Digest diffId, Digest? parent, Action<string>? progress = null)
    {
        var chain = ChainId.Next(parent, diffId);
        // Under a lease, the layer found here is held from this look on, and an unpack's snapshot from its start.
        var lease = store.ActiveLease;
        if (Held(lease, chain.ToString(), () => snapshotter.Stat(chain.ToString())) is { Kind: SnapshotKind.Committed })
        {
            progress?.Invoke($"{desc.Digest.Short}: Already exists");
            return chain;
        }
        var key = ExtractPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) + " " + chain;
        var mounts = Held(lease, key, () => snapshotter.Prepare(key, parent?.ToString()));
        try
        {
            SnapshotMounts.Apply(store, desc, diffId, mounts, rootless);
            snapshotter.Commit(chain.ToString(), key);
        }
        catch (StrataException e) when (e.Kind == ErrorKind.AlreadyExists && snapshotter.Stat(chain.ToString()) is { Kind: SnapshotKind.Committed })
        {
            snapshotter.Remove(key); // another strata process unpacked the same layer meanwhile: use theirs
        }
        catch
        {
            TryRemove(key);
            throw;
        }
        progress?.Invoke($"{desc.Digest.Short}: Unpacked");
        return chain;
    }

    private static T Held<T>(Lease? lease, string key, Func<T> use) => lease is null ? use() : lease.Hold(RefKind.Snapshot, key, use);

    /// <summary>Removes what a failed unpack made, without hiding why it failed (a later prune retries).</summary>
    private void TryRemove(string key)
    {
        try { snapshotter.Remove(key); }
        catch (Exception e) when (e is StrataException or IOException or UnauthorizedAccessException) { }
    }
}
