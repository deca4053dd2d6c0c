using System.Text.Json.Serialization;

namespace Strata.Oci;

/// <summary>Source-generated JSON for every OCI document Strata reads or writes (trimming- and AOT-safe).</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(Descriptor))]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(OciLayoutHeader))]
[JsonSerializable(typeof(List<DockerArchiveManifestEntry>))]
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, string>>))]
[JsonSerializable(typeof(DocumentProbe))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class OciJsonContext : JsonSerializerContext;

/// <summary>The <c>oci-layout</c> file of an image layout.</summary>
internal sealed class OciLayoutHeader
{
    [JsonPropertyName("imageLayoutVersion")] public string ImageLayoutVersion { get; set; } = "1.0.0";
}

/// <summary>One entry of a <c>docker save</c> archive's manifest.json.</summary>
internal sealed class DockerArchiveManifestEntry
{
    [JsonPropertyName("Config")] public string Config { get; set; } = "";
    [JsonPropertyName("RepoTags")] public List<string>? RepoTags { get; set; }
    [JsonPropertyName("Layers")] public List<string> Layers { get; set; } = [];
    [JsonPropertyName("LayerSources")] public Dictionary<string, Descriptor>? LayerSources { get; set; }
}

/// <summary>The fields that tell which kind of document a JSON blob is.</summary>
internal sealed class DocumentProbe
{
    [JsonPropertyName("schemaVersion")] public int? SchemaVersion { get; set; }
    [JsonPropertyName("mediaType")] public string? MediaType { get; set; }
    [JsonPropertyName("manifests")] public System.Text.Json.JsonElement? Manifests { get; set; }
    [JsonPropertyName("layers")] public System.Text.Json.JsonElement? Layers { get; set; }
    [JsonPropertyName("config")] public System.Text.Json.JsonElement? Config { get; set; }
}
