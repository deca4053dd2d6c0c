using Strata.Archive.Compression;
using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Images;

/// <summary>
/// Writes images out as an OCI layout (directory or tar) or a docker-save archive. OCI output keeps the
/// stored manifest bytes when they are OCI (same digests after a round trip); Docker schema2 images get the
/// equivalent OCI manifest, and docker archives get uncompressed layers named by DiffID.
/// </summary>
internal sealed class ImageSaver(StrataStore store)
{
    public void Save(IReadOnlyList<(LocalImage Image, string? Name)> images, string output, SaveFormat format)
    {
        if (images.Count == 0) throw StrataException.BadArgument("no image to save");
        switch (format)
        {
            case SaveFormat.OciDir:
                if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any() && !File.Exists(Path.Combine(output, "oci-layout")))
                    throw StrataException.BadArgument($"{output} exists and is not an OCI layout");
                bool made = !Directory.Exists(output);
                Directory.CreateDirectory(output);
                try
                {
                    using var sink = new DirectorySink(output);
                    WriteOci(images, sink, MergeIndex(output));
                }
                catch when (made)
                {
                    Directory.Delete(output, recursive: true); // a layout this save began: nothing of it stays
                    throw;
                }
                break;
            case SaveFormat.OciArchive:
                WriteArchive(output, sink => WriteOci(images, sink, []));
                break;
            case SaveFormat.DockerArchive:
                WriteArchive(output, sink => WriteDocker(images, sink));
                break;
        }
    }

    /// <summary>Streams an archive (docker save without -o writes to standard output).</summary>
    public void Save(IReadOnlyList<(LocalImage Image, string? Name)> images, Stream output, SaveFormat format)
    {
        if (images.Count == 0) throw StrataException.BadArgument("no image to save");
        using var sink = new TarSink(output);
        if (format == SaveFormat.DockerArchive) WriteDocker(images, sink);
        else WriteOci(images, sink, []);
    }

    /// <summary>A failed save leaves no half archive behind.</summary>
    private static void WriteArchive(string output, Action<IArchiveSink> write) => IO.AtomicFile.Write(output, file =>
    {
        using var sink = new TarSink(file);
        write(sink);
    });

    private void WriteOci(IReadOnlyList<(LocalImage Image, string? Name)> images, IArchiveSink sink, List<Descriptor> existing)
    {
        sink.AddFile("oci-layout", OciDocuments.Serialize(new OciLayoutHeader(), OciJsonContext.Default.OciLayoutHeader));
        sink.AddDirectory("blobs");
        sink.AddDirectory("blobs/sha256");
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex };
        foreach (var (image, name) in images)
        {
            var (rawManifest, manifest) = AsOciManifest(image);
            foreach (var d in manifest.Layers.Prepend(manifest.Config)) CopyBlob(sink, d.Digest);
            var desc = Descriptor.For(MediaTypes.OciManifest, rawManifest);
            WriteBlob(sink, desc.Digest, rawManifest);
            if (name is not null)
            {
                desc.Annotations = new() { [Descriptor.RefNameAnnotation] = name };
                existing.RemoveAll(e => e.RefName == name);
            }
            existing.RemoveAll(e => e.RefName is null && e.Digest == desc.Digest);
            index.Manifests.Add(desc);
        }
        index.Manifests.InsertRange(0, existing);
        sink.AddFile("index.json", OciDocuments.Serialize(index, OciJsonContext.Default.ImageIndex));
    }

    private static List<Descriptor> MergeIndex(string dir)
    {
        var path = Path.Combine(dir, "index.json");
        return File.Exists(path) ? OciDocuments.ParseIndex(File.ReadAllBytes(path)).Manifests : [];
    }

    /// <summary>The stored manifest if it is OCI; else the same image described with OCI media types.</summary>
    private static (byte[] Raw, ImageManifest Manifest) AsOciManifest(LocalImage image)
    {
        var m = image.Manifest;
        if (image.Record.ManifestMediaType == MediaTypes.OciManifest) return (image.RawManifest, m);
        var oci = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = m.Config.Digest, Size = m.Config.Size },
            Annotations = m.Annotations,
        };
        foreach (var l in m.Layers)
        {
            oci.Layers.Add(new Descriptor
            {
                MediaType = MediaTypes.OciLayerFor(MediaTypes.LayerCompression(l.MediaType)),
                Digest = l.Digest,
                Size = l.Size,
                Annotations = l.Annotations,
                Urls = l.Urls,
            });
        }
        return (OciDocuments.Serialize(oci, OciJsonContext.Default.ImageManifest), oci);
    }

    private void CopyBlob(IArchiveSink sink, Digest digest)
    {
        var name = $"blobs/{digest.Algorithm}/{digest.Encoded}";
        if (sink.Has(name)) return;
        sink.AddDirectory($"blobs/{digest.Algorithm}");
        // Verified as it is copied: bit rot in the store is refused, never handed on under its old digest.
        using var s = store.Content.OpenRead(digest);
        using var verified = new VerifyingStream(s, digest, s.Length, $"stored blob {digest}");
        sink.AddFile(name, s.Length, verified);
        verified.DrainAndVerify();
    }

    private static void WriteBlob(IArchiveSink sink, Digest digest, byte[] content)
    {
        var name = $"blobs/{digest.Algorithm}/{digest.Encoded}";
        if (!sink.Has(name)) sink.AddFile(name, content);
    }

    private void WriteDocker(IReadOnlyList<(LocalImage Image, string? Name)> images, IArchiveSink sink)
    {
        var entries = new List<DockerArchiveManifestEntry>();
        foreach (var group in images.GroupBy(i => i.Image.Id))
        {
            var image = group.First().Image;
            var entry = new DockerArchiveManifestEntry
            {
                Config = image.Id.Encoded + ".json",
                RepoTags = group.Select(g => g.Name).OfType<string>().Select(DockerName).ToList(),
            };
            sink.AddFile(entry.Config, image.RawConfig);
            for (int i = 0; i < image.Manifest.Layers.Count; i++)
            {
                var layer = image.Manifest.Layers[i];
                var diffId = image.Config.RootFs.DiffIds[i];
                var name = diffId.Encoded + ".tar";
                entry.Layers.Add(name);
                if (sink.Has(name)) continue;
                var size = LayerDigests.Of(store, layer.Digest).UncompressedSize;
                using var blob = store.Content.OpenRead(layer.Digest);
                using var verified = new VerifyingStream(blob, layer.Digest, blob.Length, $"stored blob {layer.Digest}");
                try
                {
                    using var tar = LayerStreams.OpenDecompressed(verified, out _);
                    sink.AddFile(name, size, tar);
                    verified.DrainAndVerify();
                }
                catch (Exception e) when (e is not (DigestMismatchException or OperationCanceledException))
                {
                    store.Content.Verify(layer.Digest); // rotten bytes fail decompression first: say what is wrong
                    throw;
                }
            }
            if (entry.RepoTags.Count == 0) entry.RepoTags = null;
            entries.Add(entry);
        }
        sink.AddFile("manifest.json", OciDocuments.Serialize(entries, OciJsonContext.Default.ListDockerArchiveManifestEntry));
    }


    /// <summary>docker writes familiar names in RepoTags (busybox:latest, not docker.io/library/busybox:latest).</summary>
    private static string DockerName(string name)
    {
        var r = ImageReference.Parse(name);
        var repo = r.Registry == ImageReference.DefaultRegistry && r.Repository.StartsWith("library/", StringComparison.Ordinal)
            ? r.Repository["library/".Length..]
            : r.Registry == ImageReference.DefaultRegistry ? r.Repository : r.Name;
        return $"{repo}:{r.Tag ?? ImageReference.DefaultTag}";
    }
}
