using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Oci;

/// <summary>An OCI content descriptor: what a blob is, its digest and its size.</summary>
public sealed class Descriptor
{
    [JsonPropertyName("mediaType")] public string MediaType { get; set; } = "";
    [JsonPropertyName("digest")] public Digest Digest { get; set; }
    [JsonPropertyName("size")] public long Size { get; set; }
    [JsonPropertyName("urls")] public List<string>? Urls { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonPropertyName("data")] public byte[]? Data { get; set; }
    [JsonPropertyName("platform")] public Platform? Platform { get; set; }
    [JsonPropertyName("artifactType")] public string? ArtifactType { get; set; }

    /// <summary>Fields a newer spec may add; kept so a rewrite does not drop them.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    public static Descriptor For(string mediaType, ReadOnlySpan<byte> content) =>
        new() { MediaType = mediaType, Digest = Digest.Sha256(content), Size = content.Length };

    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    public string? RefName => Annotations is not null && Annotations.TryGetValue(RefNameAnnotation, out var v) ? v : null;
}
