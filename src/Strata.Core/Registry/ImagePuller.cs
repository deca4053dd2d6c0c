using Strata.Errors;
using Strata.Images;
using Strata.Oci;
using Strata.Storage;
using Strata.Union;

namespace Strata.Registry;

/// <summary>What a pull stored.</summary>
/// <param name="ImageId">The image's ID (its config's digest).</param>
/// <param name="ManifestDigest">The digest of the platform's manifest.</param>
/// <param name="Name">The name it was given (null for a pull by digest).</param>
public sealed record PullResult(Digest ImageId, Digest ManifestDigest, string? Name);

/// <summary>
/// Pulls an image: resolves the reference (picking the platform's image from an index), downloads the blobs
/// the store lacks in parallel (each verified, resumable), unpacks the layers in order as they arrive, and
/// names the image only when every layer's DiffID matched its config.
/// </summary>
internal sealed class ImagePuller(StrataStore store, LayerStore? layers, RegistryOptions options, ITransferProgress progress)
{
    public async Task<PullResult> PullAsync(ImageReference reference, Platform? platform, CancellationToken cancellationToken)
    {
        using var client = new RegistryClient(reference.Registry, options);
        client.Retrying += progress.Message;
        var repo = RemoteRepository.For(client, reference);

        var remote = await RemoteImage.ResolveAsync(repo, reference, platform, cancellationToken).ConfigureAwait(false);
        var (manifestDoc, manifest) = (remote.ManifestDocument, remote.Manifest);
        foreach (var layer in manifest.Layers)
            if (!MediaTypes.IsLayer(layer.MediaType)) throw StrataException.Unsupported($"layer {layer.Digest.Short} has unknown media type {layer.MediaType}");
        progress.Message($"Pulling {reference} ({manifestDoc.Digest.Short}, {manifest.Layers.Count} layers)");

        using (store.BeginLease())
        {
            var rawConfig = await ConfigAsync(repo, manifest.Config, cancellationToken).ConfigureAwait(false);
            var config = OciDocuments.ParseConfig(rawConfig);
            if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
                throw StrataException.Invalid($"{reference}: {manifest.Layers.Count} layers but the config lists {config.RootFs.DiffIds.Count} diff_ids");

            try
            {
                await LayersAsync(repo, manifest, config, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (StorageFaults.IsDiskFault(e))
            {
                // The disk is full: the other layers' partial downloads (stopped, not failed) go too, freeing their space.
                foreach (var layer in manifest.Layers) store.Content.DiscardPartial(layer.Digest);
                throw;
            }

            var manifestDesc = store.Content.Put(manifestDoc.MediaType, manifestDoc.Raw);
            string? name = reference.Tag is not null ? reference.ToString() : null;
            var loaded = new ImageImporter(store, NoBlobs.Instance).ImportManifest(manifestDesc, name is null ? [] : [name], null);
            store.BlobSources.Add(reference.Registry, reference.Repository,
                manifest.Layers.Select(l => l.Digest).Append(manifest.Config.Digest));
            return new PullResult(loaded.Id, manifestDesc.Digest, name);
        }
    }

    private async Task<byte[]> ConfigAsync(RemoteRepository repo, Descriptor desc, CancellationToken cancellationToken)
    {
        if (store.Content.Exists(desc.Digest))
        {
            try { return store.Content.ReadAll(desc.Digest); }
            catch (DigestMismatchException) { store.Content.Delete(desc.Digest); } // bit rot: fetched again below
        }
        progress.Begin(desc, "config");
        var raw = await repo.GetSmallBlobAsync(desc, cancellationToken).ConfigureAwait(false);
        store.Content.Put(desc.MediaType, raw);
        progress.Status(desc.Digest, "done", final: true);
        return raw;
    }

    /// <summary>Downloads run in parallel; unpacking runs in layer order, each layer as soon as its blob is in.</summary>
    private async Task LayersAsync(RemoteRepository repo, ImageManifest manifest, ImageConfig config, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(Math.Max(1, options.Parallelism));
        var downloads = new Task[manifest.Layers.Count];
        var started = new HashSet<Digest>();
        for (int i = 0; i < manifest.Layers.Count; i++)
        {
            var layer = manifest.Layers[i];
            progress.Begin(layer, "blob");
            if (!started.Add(layer.Digest))
            {
                downloads[i] = Task.CompletedTask; // listed twice: the first fetches it
                continue;
            }
            downloads[i] = Task.Run(async () =>
            {
                await slots.WaitAsync(cts.Token).ConfigureAwait(false);
                try
                {
                    // A blob the store has is re-hashed, as load does: one bit rot damaged is fetched again, not kept.
                    if (store.Content.Exists(layer.Digest))
                    {
                        if (store.Content.Rehash(layer.Digest) == layer.Digest)
                        {
                            // Whole: a manifest that gives another size is wrong, and must not cost the store a good blob.
                            if (store.Content.GetSize(layer.Digest) is { } have && have != layer.Size)
                                throw StrataException.Invalid($"blob {layer.Digest.Short} is {have} bytes in the store, the manifest says {layer.Size}");
                            progress.Status(layer.Digest, "Already exists", final: layers is null);
                            return;
                        }
                        store.Content.Delete(layer.Digest);
                        progress.Status(layer.Digest, "Damaged in the store: downloading it again");
                    }
                    await BlobDownloader.DownloadAsync(repo, layer, store.Content, progress, cts.Token).ConfigureAwait(false);
                    progress.Status(layer.Digest, layers is null ? "Download complete" : "Downloaded", final: layers is null);
                }
                finally
                {
                    slots.Release();
                }
            }, cts.Token);
        }
        // A failing download cancels the rest; the first real failure is the one reported.
        foreach (var d in downloads) _ = d.ContinueWith(t => { if (t.IsFaulted) cts.Cancel(); }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        try
        {
            Digest? below = null;
            for (int i = 0; i < manifest.Layers.Count; i++)
            {
                await downloads[i].ConfigureAwait(false);
                if (layers is null) continue;
                var layer = manifest.Layers[i];
                progress.Status(layer.Digest, "Extracting");
                var parent = below;
                below = await Task.Run(() => layers.EnsureLayer(layer, config.RootFs.DiffIds[i], parent), cts.Token).ConfigureAwait(false);
                progress.Status(layer.Digest, "Pull complete", final: true);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Canceled because another download failed: report that failure.
            await cts.CancelAsync().ConfigureAwait(false);
            await Settle(downloads).ConfigureAwait(false);
            var fault = downloads.Where(d => d.IsFaulted).Select(d => d.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (fault is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(fault);
            throw;
        }
        finally
        {
            await cts.CancelAsync().ConfigureAwait(false);
            await Settle(downloads).ConfigureAwait(false);
        }
    }

    private static Task Settle(Task[] tasks) =>
        Task.WhenAll(tasks.Select(t => t.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)));


    private sealed class NoBlobs : IBlobSource
    {
        public static readonly NoBlobs Instance = new();
        public Stream? TryOpen(Digest digest) => null;
    }
}
