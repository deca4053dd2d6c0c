using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Oci;

/// <summary>An OCI image manifest or a Docker schema2 manifest (same shape).</summary>
public sealed class ImageManifest
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; } = 2;
    [JsonPropertyName("mediaType")] public string? MediaType { get; set; }
    [JsonPropertyName("artifactType")] public string? ArtifactType { get; set; }
    [JsonPropertyName("config")] public Descriptor Config { get; set; } = new();
    [JsonPropertyName("layers")] public List<Descriptor> Layers { get; set; } = [];
    [JsonPropertyName("subject")] public Descriptor? Subject { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>An OCI image index or a Docker manifest list.</summary>
internal sealed class ImageIndex
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; } = 2;
    [JsonPropertyName("mediaType")] public string? MediaType { get; set; }
    [JsonPropertyName("artifactType")] public string? ArtifactType { get; set; }
    [JsonPropertyName("manifests")] public List<Descriptor> Manifests { get; set; } = [];
    [JsonPropertyName("subject")] public Descriptor? Subject { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}
