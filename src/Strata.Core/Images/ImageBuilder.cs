using Strata.Archive;
using Strata.Archive.Compression;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Images;

/// <summary>Makes new images in the store: a layer from a directory or a tar, then a config and manifest.</summary>
internal sealed class ImageBuilder(StrataStore store)
{
    /// <summary>Writes a layer (entries -> tar -> compression) into the store in one streaming pass.</summary>
    public Descriptor WriteLayer(IEnumerable<TarEntry> entries, Compression compression, long? sourceDateEpoch = null)
    {
        using var writer = store.Content.OpenWriter();
        var result = LayerWriter.Write(entries, writer, compression, sourceDateEpoch);
        var (digest, size) = writer.Commit();
        store.Images.PutLayerInfo(digest, result.DiffId, result.UncompressedSize);
        return new Descriptor { MediaType = MediaTypes.OciLayerFor(compression), Digest = digest, Size = size };
    }

    /// <summary>
    /// Stores a tar (plain, gzip or zstd) as a layer, recompressed; its DiffID is the tar's digest. The tar is
    /// parsed on its way in, so what no unpack could read is refused before anything is committed.
    /// </summary>
    public Descriptor WriteLayerFromTar(Stream tar, Compression compression)
    {
        byte[] head = LayerStreams.ReadHead(tar, out int n);
        if (CompressionDetector.Unreadable(head.AsSpan(0, n)) is { } unreadable)
            throw StrataException.Invalid($"it is {unreadable}-compressed; strata reads plain, gzip and zstd tars");
        using var plain = LayerStreams.OpenDecompressed(new PrefixedStream(head[..n], tar, leaveOpen: true), out _);
        using var writer = store.Content.OpenWriter();
        Digest diffId;
        long uncompressed;
        using (var compressor = LayerStreams.OpenCompressor(writer, compression, leaveOpen: true))
        using (var hashing = new HashingStream(compressor))
        {
            using (var reader = new TarReader(new TeeReadStream(plain, hashing)))
                reader.DrainToEnd();
            hashing.Flush();
            diffId = hashing.GetDigest();
            uncompressed = hashing.BytesCount;
        }
        var (digest, size) = writer.Commit();
        store.Images.PutLayerInfo(digest, diffId, uncompressed);
        return new Descriptor { MediaType = MediaTypes.OciLayerFor(compression), Digest = digest, Size = size };
    }

    /// <summary>Records an image made of the given layers and config, named as given.</summary>
    public LoadedImage Commit(ImageConfig config, IReadOnlyList<Descriptor> layers, IReadOnlyList<string> names)
    {
        var rawConfig = OciDocuments.Serialize(config, OciJsonContext.Default.ImageConfig);
        var configDesc = store.Content.Put(MediaTypes.OciConfig, rawConfig);
        var manifest = new ImageManifest { MediaType = MediaTypes.OciManifest, Config = configDesc, Layers = [.. layers] };
        var rawManifest = OciDocuments.Serialize(manifest, OciJsonContext.Default.ImageManifest);
        var manifestDesc = store.Content.Put(MediaTypes.OciManifest, rawManifest);
        long size = layers.Sum(store.Images.LayerSize);
        store.Images.Put(configDesc.Digest, manifestDesc.Digest, MediaTypes.OciManifest, config.Created, size, names,
            ImageRefs.Of(manifestDesc.Digest, manifest, config));
        return new LoadedImage(configDesc.Digest, manifestDesc.Digest, names);
    }

    /// <summary>
    /// The time written into configs and history: whole seconds, as docker writes; SOURCE_DATE_EPOCH, when given,
    /// makes an image reproducible (same tree, same epoch, same image ID).
    /// </summary>
    public static DateTimeOffset Now(long? sourceDateEpoch = null)
    {
        var now = sourceDateEpoch is { } epoch ? DateTimeOffset.FromUnixTimeSeconds(epoch) : DateTimeOffset.UtcNow;
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
    }

    /// <summary>docker import: a rootfs directory or tarball becomes a one-layer image.</summary>
    public LoadedImage Import(string source, IReadOnlyList<string> names, string? comment = null,
        Compression compression = Compression.Gzip, long? sourceDateEpoch = null)
    {
        Descriptor layer;
        if (Directory.Exists(source))
        {
            layer = WriteLayer(Archive.Changes.DirectoryDiffer.Diff(null, source), compression, sourceDateEpoch);
        }
        else
        {
            using var f = Native.UnlockedFile.OpenRead(source);
            try
            {
                layer = WriteLayerFromTar(f, compression);
            }
            catch (StrataException e) when (e.Kind is ErrorKind.InvalidContent or ErrorKind.Unsupported)
            {
                throw new StrataException(e.Kind, $"cannot import {source}: {e.Message}", e);
            }
        }
        var diffId = store.Images.GetLayerInfo(layer.Digest)!.Value.DiffId;
        var now = Now(sourceDateEpoch);
        var platform = Platform.Current;
        var config = new ImageConfig
        {
            Created = now,
            Architecture = platform.Architecture,
            Os = platform.Os,
            Config = new ContainerConfig { Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
            RootFs = new RootFs { DiffIds = [diffId] },
            History = [new HistoryEntry { Created = now, CreatedBy = $"strata import {Path.GetFileName(Path.TrimEndingDirectorySeparator(source))}", Comment = comment ?? "Imported from " + source }],
        };
        return Commit(config, [layer], names);
    }
}
