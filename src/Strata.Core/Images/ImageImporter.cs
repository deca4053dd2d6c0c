using System.Text.Json;
using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Images;

/// <summary>
/// Brings the documents and blobs of images into the store, verifying every blob, every layer's DiffID
/// against the config, and the structure, before any name points at the result.
/// </summary>
internal sealed class ImageImporter(StrataStore store, IBlobSource source, bool replaceDamaged = false)
{
    private const string ContainerdNameAnnotation = "io.containerd.image.name";

    /// <summary>Every blob the imported images reference (so a caller can drop what it ingested for nothing).</summary>
    public HashSet<Digest> Referenced { get; } = [];

    /// <summary>Blobs this import put into the store (to remove them again when the import fails).</summary>
    public HashSet<Digest> Added { get; } = [];

    public IReadOnlyList<LoadedImage> ImportIndex(byte[] rawIndex, bool namesFromRefs, byte[]? dockerManifest = null)
    {
        var index = OciDocuments.ParseIndex(rawIndex);
        var repoTagsByConfig = DockerRepoTags(dockerManifest);
        var result = new List<LoadedImage>();
        foreach (var desc in index.Manifests)
        {
            var names = namesFromRefs ? NamesFor(desc) : [];
            var manifestDesc = desc;
            if (MediaTypes.IsIndex(desc.MediaType))
            {
                var child = OciDocuments.ParseIndex(EnsureSmallBlob(desc), desc.MediaType);
                manifestDesc = PlatformMatcher.Select(child, Platform.Current, desc.Digest);
            }
            else if (!MediaTypes.IsManifest(desc.MediaType))
            {
                continue; // artifacts and unknown types: not images; a layout may carry them.
            }
            var loaded = ImportManifest(manifestDesc, names, repoTagsByConfig);
            result.Add(loaded);
        }
        if (result.Count == 0) throw StrataException.Invalid("the index names no image");
        return result;
    }

    public IReadOnlyList<LoadedImage> ImportDockerArchive(byte[] manifestJson, Func<string, (Digest Digest, long Size)> lookup)
    {
        List<DockerArchiveManifestEntry>? entries;
        try { entries = JsonSerializer.Deserialize(manifestJson, OciJsonContext.Default.ListDockerArchiveManifestEntry); }
        catch (JsonException e) { throw StrataException.Invalid($"manifest.json is not valid JSON: {e.Message}"); }
        if (entries is null || entries.Count == 0) throw StrataException.Invalid("manifest.json lists no image");

        var result = new List<LoadedImage>();
        foreach (var entry in entries)
        {
            var (configDigest, configSize) = lookup(entry.Config);
            var rawConfig = store.Content.ReadAll(configDigest);
            var config = OciDocuments.ParseConfig(rawConfig);
            if (config.RootFs.DiffIds.Count != entry.Layers.Count)
                throw StrataException.Invalid($"image {entry.Config}: {entry.Layers.Count} layers but {config.RootFs.DiffIds.Count} diff_ids");
            var manifest = new ImageManifest
            {
                MediaType = MediaTypes.DockerManifest,
                Config = new Descriptor { MediaType = MediaTypes.DockerConfig, Digest = configDigest, Size = configSize },
            };
            foreach (var layerName in entry.Layers)
            {
                var (digest, size) = lookup(layerName);
                var compression = Archive.Compression.CompressionDetector.Detect(store.Content, digest);
                manifest.Layers.Add(new Descriptor { MediaType = MediaTypes.DockerLayerFor(compression), Digest = digest, Size = size });
            }
            var rawManifest = OciDocuments.Serialize(manifest, OciJsonContext.Default.ImageManifest);
            var manifestDesc = store.Content.Put(MediaTypes.DockerManifest, rawManifest);
            Added.Add(manifestDesc.Digest);
            var names = (entry.RepoTags ?? []).Select(t => ImageReference.Parse(t).ToString()).ToList();
            result.Add(ImportManifest(manifestDesc, names, null));
        }
        return result;
    }

    /// <summary>Verifies one image's blobs and records it under the given names.</summary>
    public LoadedImage ImportManifest(Descriptor manifestDesc, IReadOnlyList<string> names, Dictionary<Digest, List<string>>? repoTagsByConfig)
    {
        var rawManifest = EnsureSmallBlob(manifestDesc);
        var manifest = OciDocuments.ParseManifest(rawManifest, manifestDesc.MediaType);
        if (!MediaTypes.IsConfig(manifest.Config.MediaType))
            throw StrataException.Unsupported($"manifest {manifestDesc.Digest} is not an image (config type {manifest.Config.MediaType})");
        var rawConfig = EnsureSmallBlob(manifest.Config);
        var config = OciDocuments.ParseConfig(rawConfig);
        if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
            throw StrataException.Invalid($"manifest {manifestDesc.Digest} has {manifest.Layers.Count} layers but its config lists {config.RootFs.DiffIds.Count} diff_ids");

        long size = 0;
        for (int i = 0; i < manifest.Layers.Count; i++)
        {
            var layer = manifest.Layers[i];
            if (!MediaTypes.IsLayer(layer.MediaType))
                throw StrataException.Unsupported($"layer {layer.Digest} has unknown media type {layer.MediaType}");
            EnsureBlob(layer);
            size += VerifyDiffId(layer, config.RootFs.DiffIds[i]);
        }

        var allNames = names.ToList();
        if (allNames.Count == 0 && repoTagsByConfig is not null && repoTagsByConfig.TryGetValue(manifest.Config.Digest, out var tags))
            allNames.AddRange(tags);
        store.Images.Put(manifest.Config.Digest, manifestDesc.Digest, manifestDesc.MediaType, config.Created, size, allNames,
            ImageRefs.Of(manifestDesc.Digest, manifest, config));
        return new LoadedImage(manifest.Config.Digest, manifestDesc.Digest, allNames);
    }

    private long VerifyDiffId(Descriptor layer, Digest expectedDiffId)
    {
        var (diffId, uncompressed) = LayerDigests.Of(store, layer.Digest);
        if (diffId != expectedDiffId) throw new DigestMismatchException(expectedDiffId, diffId, $"layer {layer.Digest} DiffID");
        return uncompressed;
    }

    private byte[] EnsureSmallBlob(Descriptor desc)
    {
        if (desc.Size > 32 << 20) throw StrataException.Invalid($"document {desc.Digest} is {desc.Size} bytes: too large");
        EnsureBlob(desc);
        return store.Content.ReadAll(desc.Digest);
    }

    private void EnsureBlob(Descriptor desc)
    {
        Referenced.Add(desc.Digest);
        if (store.Content.GetSize(desc.Digest) is { } have)
        {
            if (!replaceDamaged && have != desc.Size) throw StrataException.Invalid($"blob {desc.Digest} is {have} bytes, its descriptor says {desc.Size}");
            // A source that has the blob (a layout being loaded) mends a stored copy bit rot has damaged.
            if (!replaceDamaged || (have == desc.Size && store.Content.Rehash(desc.Digest) == desc.Digest)) return;
            store.Content.Delete(desc.Digest);
        }
        using var s = source.TryOpen(desc.Digest) ?? throw StrataException.NotFound($"blob {desc.Digest} ({desc.MediaType}) is missing");
        store.Content.IngestAsync(s, desc.Digest, desc.Size).GetAwaiter().GetResult();
        Added.Add(desc.Digest);
    }

    /// <summary>Names from a layout's descriptor: a full reference in ref.name or in containerd's name annotation.</summary>
    private static List<string> NamesFor(Descriptor desc)
    {
        var names = new List<string>();
        foreach (var candidate in new[] { desc.Annotations?.GetValueOrDefault(ContainerdNameAnnotation), desc.RefName })
        {
            // A bare tag ("latest") names nothing on its own.
            if (candidate is null || !(candidate.Contains('/') || candidate.Contains(':'))) continue;
            if (ImageReference.TryParse(candidate, out var r) && r.Digest is null) { names.Add(r.ToString()); break; }
        }
        return names;
    }

    private static Dictionary<Digest, List<string>>? DockerRepoTags(byte[]? dockerManifest)
    {
        if (dockerManifest is null) return null;
        try
        {
            var entries = JsonSerializer.Deserialize(dockerManifest, OciJsonContext.Default.ListDockerArchiveManifestEntry) ?? [];
            var map = new Dictionary<Digest, List<string>>();
            foreach (var e in entries)
            {
                var configName = e.Config.Split('/');
                if (configName.Length == 3 && Digest.TryParse($"{configName[1]}:{configName[2]}", out var d))
                    map[d] = (e.RepoTags ?? []).Where(t => ImageReference.TryParse(t, out _)).Select(t => ImageReference.Parse(t).ToString()).ToList();
            }
            return map;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
