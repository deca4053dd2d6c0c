using Strata.Errors;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>An image in the store with its manifest and config read and verified from content.</summary>
internal sealed class LocalImage
{
    private LocalImage(ImageRecord record, byte[] rawManifest, ImageManifest manifest, byte[] rawConfig, ImageConfig config)
    {
        Record = record;
        RawManifest = rawManifest;
        Manifest = manifest;
        RawConfig = rawConfig;
        Config = config;
    }

    public ImageRecord Record { get; }
    public Digest Id => Record.Id;
    public byte[] RawManifest { get; }
    public ImageManifest Manifest { get; }
    public byte[] RawConfig { get; }
    public ImageConfig Config { get; }

    /// <summary>What the image keeps alive: its blobs and its layers' ChainIDs.</summary>
    public ImageRefs Refs => ImageRefs.Of(Record.ManifestDigest, Manifest, Config);

    public static LocalImage Load(StrataStore store, ImageRecord record)
    {
        var rawManifest = store.Content.ReadAll(record.ManifestDigest);
        var manifest = OciDocuments.ParseManifest(rawManifest);
        var rawConfig = store.Content.ReadAll(manifest.Config.Digest);
        if (Digest.Sha256(rawConfig) != record.Id)
            throw new StrataException(ErrorKind.Internal, $"image {record.Id}: its manifest names another config");
        return new LocalImage(record, rawManifest, manifest, rawConfig, OciDocuments.ParseConfig(rawConfig));
    }
}
