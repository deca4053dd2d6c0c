using Strata.Errors;
using Strata.Oci;

namespace Strata.Registry;

/// <summary>An image as a registry serves it: the document a reference names, and the platform's manifest in it.</summary>
internal sealed record RemoteImage(RemoteManifest Top, RemoteManifest ManifestDocument, ImageManifest Manifest)
{
    /// <summary>Resolves a reference; an index (or Docker manifest list) yields the image for the platform.</summary>
    public static async Task<RemoteImage> ResolveAsync(RemoteRepository repo, ImageReference reference, Platform? platform, CancellationToken cancellationToken)
    {
        var top = await repo.GetManifestAsync(reference.Digest?.ToString() ?? reference.Tag!, cancellationToken).ConfigureAwait(false);
        var doc = top;
        if (MediaTypes.IsIndex(top.MediaType))
        {
            var index = OciDocuments.ParseIndex(top.Raw, top.MediaType);
            var chosen = PlatformMatcher.Select(index, platform ?? Platform.Current, top.Digest);
            doc = await repo.GetManifestAsync(chosen.Digest.ToString(), cancellationToken).ConfigureAwait(false);
            if (doc.Raw.Length != chosen.Size)
                throw StrataException.Invalid($"manifest {chosen.Digest.Short} is {doc.Raw.Length} bytes, the index says {chosen.Size}");
        }
        var manifest = OciDocuments.ParseManifest(doc.Raw, doc.MediaType);
        if (!MediaTypes.IsConfig(manifest.Config.MediaType))
            throw StrataException.Unsupported($"{reference} is not a container image (config type {manifest.Config.MediaType})");
        return new RemoteImage(top, doc, manifest);
    }
}
