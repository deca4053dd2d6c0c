using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Oci;

/// <summary>An OCI content descriptor: what a blob is, its digest and its size.</summary>
public sealed class Descriptor
{
    /// <summary>The media type of the content described.</summary>
    [JsonPropertyName("mediaType")] public string MediaType { get; set; } = "";
    /// <summary>The content's digest; content is verified against it.</summary>
    [JsonPropertyName("digest")] public Digest Digest { get; set; }
    /// <summary>The content's size in bytes.</summary>
    [JsonPropertyName("size")] public long Size { get; set; }
    /// <summary>Where else the content may be fetched from (non-distributable layers).</summary>
    [JsonPropertyName("urls")] public List<string>? Urls { get; set; }
    /// <summary>Free-form metadata (for example <see cref="RefNameAnnotation"/> in an index).</summary>
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    /// <summary>The content itself, embedded (small blobs).</summary>
    [JsonPropertyName("data")] public byte[]? Data { get; set; }
    /// <summary>The platform an index entry is for.</summary>
    [JsonPropertyName("platform")] public Platform? Platform { get; set; }
    /// <summary>The type of an artifact, when the content is one.</summary>
    [JsonPropertyName("artifactType")] public string? ArtifactType { get; set; }

    /// <summary>Fields a newer spec may add; kept so a rewrite does not drop them.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>A descriptor of the given bytes, by their SHA-256.</summary>
    public static Descriptor For(string mediaType, ReadOnlySpan<byte> content) =>
        new() { MediaType = mediaType, Digest = Digest.Sha256(content), Size = content.Length };

    /// <summary>The annotation an OCI layout's index names images with.</summary>
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    /// <summary>The <see cref="RefNameAnnotation"/> value, when there is one.</summary>
    public string? RefName => Annotations is not null && Annotations.TryGetValue(RefNameAnnotation, out var v) ? v : null;
}
