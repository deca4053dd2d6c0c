using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Oci;

/// <summary>An OCI image manifest or a Docker schema2 manifest (same shape).</summary>
public sealed class ImageManifest
{
    /// <summary>Always 2.</summary>
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; } = 2;
    /// <summary>The manifest's own media type.</summary>
    [JsonPropertyName("mediaType")] public string? MediaType { get; set; }
    /// <summary>The type of an artifact, when the manifest describes one.</summary>
    [JsonPropertyName("artifactType")] public string? ArtifactType { get; set; }
    /// <summary>The image configuration.</summary>
    [JsonPropertyName("config")] public Descriptor Config { get; set; } = new();
    /// <summary>The layers, base first.</summary>
    [JsonPropertyName("layers")] public List<Descriptor> Layers { get; set; } = [];
    /// <summary>The manifest this one refers to (referrers).</summary>
    [JsonPropertyName("subject")] public Descriptor? Subject { get; set; }
    /// <summary>Free-form metadata.</summary>
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    /// <summary>Fields this model does not know; kept so a rewrite does not drop them.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>An OCI image index or a Docker manifest list.</summary>
internal sealed class ImageIndex
{
    /// <summary>Always 2.</summary>
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; } = 2;
    /// <summary>The manifest's own media type.</summary>
    [JsonPropertyName("mediaType")] public string? MediaType { get; set; }
    /// <summary>The type of an artifact, when the manifest describes one.</summary>
    [JsonPropertyName("artifactType")] public string? ArtifactType { get; set; }
    [JsonPropertyName("manifests")] public List<Descriptor> Manifests { get; set; } = [];
    /// <summary>The manifest this one refers to (referrers).</summary>
    [JsonPropertyName("subject")] public Descriptor? Subject { get; set; }
    /// <summary>Free-form metadata.</summary>
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    /// <summary>Fields this model does not know; kept so a rewrite does not drop them.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}
