using Strata.Errors;
using Strata.Images;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Engine;

/// <summary>The image verbs: load, save, import, images, inspect, history, tag, rmi, prune, unpack.</summary>
public sealed partial class StrataEngine
{
    /// <summary>Loads the images of a docker-archive or oci-archive tar (plain or compressed), or of an OCI layout directory.</summary>
    public Task<IReadOnlyList<LoadedImage>> LoadAsync(string path, CancellationToken cancellationToken = default) =>
        WithStore(store =>
        {
            using var lease = store.BeginLease();
            return new ImageLoader(store).Load(path, cancellationToken);
        }, cancellationToken);

    /// <summary>Loads a docker-archive or oci-archive from a stream; <paramref name="sourceName"/> names it in errors.</summary>
    public Task<IReadOnlyList<LoadedImage>> LoadFromStreamAsync(Stream archive, string sourceName, CancellationToken cancellationToken = default) =>
        Guard(() => StreamPump.ReadAsync(archive, input =>
        {
            using var store = OpenStore();
            using var lease = store.BeginLease();
            return new ImageLoader(store).Load(input, sourceName, cancellationToken);
        }, cancellationToken));

    /// <summary>Writes images to an archive file or (<see cref="SaveFormat.OciDir"/>) an OCI layout directory, as docker save.</summary>
    public Task SaveAsync(IReadOnlyList<string> images, string output, SaveFormat format, CancellationToken cancellationToken = default) =>
        WithStoreToRead(store =>
        {
            new ImageSaver(store).Save(ResolveForSave(store, images), output, format);
            return 0;
        }, cancellationToken);

    /// <summary>Streams an archive (docker-archive or oci-archive) of images.</summary>
    public Task SaveToStreamAsync(IReadOnlyList<string> images, Stream output, SaveFormat format, CancellationToken cancellationToken = default)
    {
        if (format == SaveFormat.OciDir) throw StrataException.BadArgument("an OCI layout directory is written to a path, not a stream");
        return Guard(async () =>
        {
            using var store = await Task.Run(OpenStoreToRead, cancellationToken).ConfigureAwait(false);
            var resolved = ResolveForSave(store, images); // an unknown image fails before a byte is written
            await StreamPump.WriteAsync(stream => new ImageSaver(store).Save(resolved, stream, format), output, cancellationToken).ConfigureAwait(false);
        });
    }

    private static List<(LocalImage, string?)> ResolveForSave(StrataStore store, IReadOnlyList<string> images) =>
        images.Select(arg => (store.Resolve(arg), NameFor(store, arg))).ToList();

    /// <summary>The name an argument stands for, when it is one of the image's names (an ID names nothing).</summary>
    private static string? NameFor(StrataStore store, string arg)
    {
        if (!ImageReference.TryParse(arg, out var r) || r.Digest is not null) return null;
        var id = store.ResolveId(arg);
        return id is not null && store.Images.FindByName(r.ToString()) == id ? r.ToString() : null;
    }

    /// <summary>docker import: a rootfs directory or a tar (plain, gzip or zstd) becomes a one-layer image.</summary>
    public Task<LoadedImage> ImportAsync(string source, ImportOptions? options = null, CancellationToken cancellationToken = default) =>
        Run(() =>
        {
            options ??= new ImportOptions();
            var names = options.Reference is { } r ? new[] { ImageReference.Parse(r).ToString() } : [];
            if (!File.Exists(source) && !Directory.Exists(source)) throw StrataException.NotFound($"no such file or directory: {source}");
            using var store = OpenStore();
            using var lease = store.BeginLease();
            return new ImageBuilder(store).Import(source, names, options.Comment, sourceDateEpoch: options.SourceDateEpoch);
        }, cancellationToken);

    /// <summary>Every stored image, newest first.</summary>
    public Task<IReadOnlyList<ImageRecord>> ListImagesAsync(CancellationToken cancellationToken = default) =>
        WithStoreToRead(store =>
        {
            return store.Images.List();
        }, cancellationToken);

    /// <summary>An image by name, full or short ID, or manifest digest, with its documents read and verified.</summary>
    public Task<ImageDetails> InspectImageAsync(string image, CancellationToken cancellationToken = default) =>
        WithStoreToRead(store =>
        {
            var local = store.Resolve(image);
            var sizes = local.Manifest.Layers.Select(l => store.Images.GetLayerInfo(l.Digest)?.UncompressedSize).ToList();
            return new ImageDetails(local.Record, local.Manifest, local.Config, local.RawManifest, local.RawConfig, sizes);
        }, cancellationToken);

    /// <summary>An image's history, newest first, each step with the size of its layer (docker history).</summary>
    public Task<IReadOnlyList<HistoryRow>> HistoryAsync(string image, CancellationToken cancellationToken = default) =>
        WithStoreToRead(store =>
        {
            return HistoryRows.For(store, store.Resolve(image));
        }, cancellationToken);

    /// <summary>Adds names to an image.</summary>
    public Task TagAsync(string image, IReadOnlyList<string> names, CancellationToken cancellationToken = default) =>
        WithStore(store =>
        {
            var id = store.Resolve(image).Id;
            foreach (var name in names)
            {
                var r = ImageReference.Parse(name);
                if (r.Digest is not null) throw StrataException.BadArgument($"cannot tag with a digest reference: {name}");
                store.Images.AddName(id, r.ToString());
            }
            return 0;
        }, cancellationToken);

    /// <summary>
    /// docker rmi of one image: by one of several names only that name goes (unless <paramref name="force"/>);
    /// an image a container uses stays; the content nothing references any more is collected.
    /// </summary>
    public Task<ImageRemoval> RemoveImageAsync(string image, bool force = false, CancellationToken cancellationToken = default) =>
        WithStoreToFree(store =>
        {
            var local = store.Resolve(image);
            var names = local.Record.Names;
            var name = NameFor(store, image);
            if (name is not null && names.Count > 1 && !force)
            {
                store.Images.RemoveName(name);
                return new ImageRemoval([name], null);
            }
            if (name is null && names.Count > 1 && !force)
                throw new StrataException(ErrorKind.Conflict, $"image {local.Id.Short} has several names ({string.Join(", ", names)}): remove them by name or use --force");
            var refs = store.Images.Refs(local.Id);
            if (!store.Images.DeleteUnused(local.Id, force ? null : names))
            {
                var users = store.Containers.ByImage(local.Id).Select(c => c.Name).ToList();
                if (users.Count > 0)
                    throw new StrataException(ErrorKind.Conflict, $"image {local.Id.Short} is in use by containers {string.Join(", ", users)}: remove them first");
                if (name is null)
                    throw new StrataException(ErrorKind.Conflict, $"image {local.Id.Short} was tagged meanwhile: nothing removed");
                store.Images.RemoveName(name); // tagged meanwhile: as with several names, only this one goes
                return new ImageRemoval([name], null);
            }
            CollectImage(store, local.Id, refs);
            return new ImageRemoval(names, local.Id);
        }, cancellationToken);

    /// <summary>
    /// podman system check: verifies every blob against its digest and every unpacked layer against what was unpacked
    /// (neither with <paramref name="quick"/>) and the metadata against the disk; with <paramref name="repair"/> removes
    /// what is damaged and cannot be rebuilt (a removed layer is unpacked again from its blob when next needed).
    /// </summary>
    public Task<CheckReport> CheckAsync(bool repair = false, bool quick = false, CancellationToken cancellationToken = default) =>
        WithStore(store =>
        {
            var report = new StoreCheck(store, Containers(store, recordDriver: false), repair, quick).Run(cancellationToken);
            if (repair && report.Problems.Any(p => p.Repaired)) Collect(store, GarbageCollector.PartialsKept);
            return report;
        }, cancellationToken);

    /// <summary>Removes every blob and layer no image references, and every partial download no pull is writing.</summary>
    public Task<PruneResult> PruneAsync(CancellationToken cancellationToken = default) =>
        WithStoreToFree(store => Collect(store, partialsOlderThan: TimeSpan.Zero), cancellationToken);

    /// <summary>Unpacks an image's layers into a new or empty directory (nothing changes there on failure).</summary>
    public Task UnpackAsync(string image, string target, CancellationToken cancellationToken = default) =>
        WithStoreToRead(store =>
        {
            new ImageUnpacker(store).Unpack(store.Resolve(image), target, cancellationToken);
            return 0;
        }, cancellationToken);
}
