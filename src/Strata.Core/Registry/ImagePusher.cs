using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Registry;

/// <summary>What a push put in the registry.</summary>
/// <param name="ManifestDigest">The pushed manifest's digest (what --digestfile writes).</param>
/// <param name="ManifestSize">The manifest's size.</param>
/// <param name="MediaType">The manifest's media type.</param>
public sealed record PushResult(Digest ManifestDigest, long ManifestSize, string MediaType);

/// <summary>The manifest format a push writes: the image's own, OCI, or Docker schema 2.</summary>
public enum ManifestFormat
{
    /// <summary>The image's own manifest, byte for byte where nothing else changes.</summary>
    Keep,
    /// <summary>An OCI image manifest.</summary>
    Oci,
    /// <summary>A Docker schema 2 manifest.</summary>
    DockerV2S2,
}

/// <summary>
/// Pushes a stored image: asks the registry (in parallel) which blobs it has, mounts what another of its
/// repositories holds, uploads the rest in parallel, and puts the manifest last, so a reader never sees a
/// manifest whose blobs are missing. The stored manifest's bytes go out unchanged unless the format changes
/// or an uncompressed layer had to be compressed.
/// </summary>
internal sealed class ImagePusher(StrataStore store, RegistryOptions options, ITransferProgress progress)
{
    public async Task<PushResult> PushAsync(LocalImage image, ImageReference destination, ManifestFormat format, CancellationToken cancellationToken)
    {
        using var client = new RegistryClient(destination.Registry, options);
        client.Retrying += progress.Message;
        var repo = RemoteRepository.For(client, destination);
        using var lease = store.BeginLease();
        if (!lease.Hold(image)) throw StrataException.NotFound($"image {image.Id.Short} was removed meanwhile");

        var (raw, mediaType, manifest) = Manifest(image, format);
        var blobs = manifest.Layers.Append(manifest.Config).DistinctBy(d => d.Digest).ToList();
        foreach (var b in blobs)
            if (b.Urls is { Count: > 0 } || b.MediaType.Contains("nondistributable", StringComparison.Ordinal) || b.MediaType.Contains("foreign", StringComparison.Ordinal))
                throw StrataException.Unsupported($"layer {b.Digest.Short} is non-distributable; strata does not push such layers");
        progress.Message($"Pushing {destination} ({blobs.Count} blobs)");

        using var slots = new SemaphoreSlim(Math.Max(1, options.Parallelism));
        await Task.WhenAll(blobs.Select(async blob =>
        {
            progress.Begin(blob, blob == manifest.Config ? "config" : "blob");
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (await repo.HeadBlobAsync(blob.Digest, repo.PushScope, cancellationToken).ConfigureAwait(false) is not null)
                {
                    progress.Status(blob.Digest, "Already exists", final: true);
                    return;
                }
                var from = store.BlobSources.Find(blob.Digest, destination.Registry, destination.Repository);
                var how = await BlobUploader.UploadAsync(repo, blob, store.Content, from, progress, cancellationToken).ConfigureAwait(false);
                progress.Status(blob.Digest, how, final: true);
            }
            finally
            {
                slots.Release();
            }
        })).ConfigureAwait(false);

        var manifestDigest = Digest.Sha256(raw);
        await repo.PutManifestAsync(destination.Tag ?? destination.Digest!.Value.ToString(), raw, mediaType, cancellationToken).ConfigureAwait(false);
        if (destination.Digest is { } wanted && wanted != manifestDigest)
            throw StrataException.Invalid($"the pushed manifest is {manifestDigest}, not the {wanted} the destination names");
        store.BlobSources.Add(destination.Registry, destination.Repository, blobs.Select(b => b.Digest));
        progress.Message($"Writing manifest {manifestDigest.Short} to {destination}");
        return new PushResult(manifestDigest, raw.Length, mediaType);
    }

    /// <summary>The manifest to push: the stored bytes when nothing changes, else a rewrite in the wanted format.</summary>
    private (byte[] Raw, string MediaType, ImageManifest Manifest) Manifest(LocalImage image, ManifestFormat format)
    {
        var current = image.Record.ManifestMediaType;
        bool docker = format switch
        {
            ManifestFormat.Oci => false,
            ManifestFormat.DockerV2S2 => true,
            _ => current == MediaTypes.DockerManifest,
        };
        var target = docker ? MediaTypes.DockerManifest : MediaTypes.OciManifest;
        bool changed = target != current;
        Func<string, string> layerType = t => docker ? MediaTypes.DockerLayerFor(MediaTypes.LayerCompression(t)) : MediaTypes.OciLayerFor(MediaTypes.LayerCompression(t));

        var layers = new List<Descriptor>();
        foreach (var layer in image.Manifest.Layers)
        {
            var compression = MediaTypes.LayerCompression(layer.MediaType);
            var pushed = layer;
            if (compression == Compression.None)
            {
                pushed = LayerCompressor.Gzip(store, layer, layerType);
                changed = true;
            }
            else if (compression == Compression.Zstd && docker)
            {
                throw StrataException.Unsupported($"layer {layer.Digest.Short} is zstd-compressed, which a Docker v2s2 manifest cannot carry: push with --format oci");
            }
            else if (layerType(layer.MediaType) != layer.MediaType)
            {
                pushed = new Descriptor { MediaType = layerType(layer.MediaType), Digest = layer.Digest, Size = layer.Size, Annotations = docker ? null : layer.Annotations };
                changed = true;
            }
            layers.Add(pushed);
        }
        if (!changed) return (image.RawManifest, current, image.Manifest);

        var manifest = new ImageManifest
        {
            MediaType = target,
            Config = new Descriptor { MediaType = docker ? MediaTypes.DockerConfig : MediaTypes.OciConfig, Digest = image.Manifest.Config.Digest, Size = image.Manifest.Config.Size },
            Layers = layers,
            Annotations = docker ? null : image.Manifest.Annotations,
        };
        return (OciDocuments.Serialize(manifest, OciJsonContext.Default.ImageManifest), target, manifest);
    }
}
