using Strata.Oci;

namespace Strata.Storage;

/// <summary>
/// What one image keeps alive: its manifest, config and layer blobs, and the ChainIDs its layers unpack to. Recorded
/// with the image (the image_refs table), so a collection finds what is still referenced by a lookup, never by
/// reading every image's documents.
/// </summary>
internal sealed record ImageRefs(IReadOnlyList<Digest> Blobs, IReadOnlyList<Digest> Chains)
{
    public static ImageRefs Of(Digest manifestDigest, ImageManifest manifest, ImageConfig config) => new(
        manifest.Layers.Select(l => l.Digest).Prepend(manifest.Config.Digest).Prepend(manifestDigest).Distinct().ToList(),
        ChainId.Compute(config.RootFs.DiffIds));

    /// <summary>The top layer's ChainID (what a container of the image stacks on), or null for an image of no layers.</summary>
    public Digest? TopChain => Chains.Count > 0 ? Chains[^1] : null;
}
