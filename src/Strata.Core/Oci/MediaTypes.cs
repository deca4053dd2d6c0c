namespace Strata.Oci;

/// <summary>The media types of the OCI image spec and Docker's schema2, and what they mean to a consumer.</summary>
internal static class MediaTypes
{
    public const string OciLayoutHeader = "application/vnd.oci.layout.header.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    public const string OciLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public const string OciLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public const string OciLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";

    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";
    public const string DockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar";
    public const string DockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;
    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;
    public static bool IsConfig(string? mediaType) => mediaType is OciConfig or DockerConfig;

    public static bool IsLayer(string? mediaType) => mediaType is OciLayer or OciLayerGzip or OciLayerZstd
        or OciLayerNondistributable or OciLayerNondistributableGzip or OciLayerNondistributableZstd
        or DockerLayer or DockerLayerGzip or DockerLayerZstd or DockerForeignLayer or DockerForeignLayerGzip;

    /// <summary>The compression a layer media type declares (the bytes are sniffed as well: labels lie).</summary>
    public static Compression LayerCompression(string mediaType) => mediaType switch
    {
        OciLayerGzip or OciLayerNondistributableGzip or DockerLayerGzip or DockerForeignLayerGzip => Compression.Gzip,
        OciLayerZstd or OciLayerNondistributableZstd or DockerLayerZstd => Compression.Zstd,
        OciLayer or OciLayerNondistributable or DockerLayer or DockerForeignLayer => Compression.None,
        _ => throw Errors.StrataException.Unsupported($"unknown layer media type {mediaType}"),
    };

    public static string OciLayerFor(Compression compression) => compression switch
    {
        Compression.Gzip => OciLayerGzip,
        Compression.Zstd => OciLayerZstd,
        _ => OciLayer,
    };

    public static string DockerLayerFor(Compression compression) => compression switch
    {
        Compression.Gzip => DockerLayerGzip,
        Compression.Zstd => DockerLayerZstd,
        _ => DockerLayer,
    };
}

/// <summary>How a layer tar is compressed.</summary>
public enum Compression
{
    /// <summary>A plain tar.</summary>
    None,
    /// <summary>gzip, as most images are.</summary>
    Gzip,
    /// <summary>zstd: smaller and faster to unpack.</summary>
    Zstd,
}
