using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Cli.Output;

// What --format json prints, field for field as podman (and skopeo for a remote inspect) prints it. Declaration order
// is output order; a null marked WhenWritingNull is left out, as podman leaves those fields out.

/// <summary>One row of <c>images --format json</c>.</summary>
public sealed record ImageRow(
    string Id, string Digest, IReadOnlyList<string> RepoTags, IReadOnlyList<string> Names,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Created,
    string CreatedAt, long Size);

/// <summary><c>inspect IMAGE</c>, shaped like podman image inspect.</summary>
public sealed record ImageInspect(
    string Id, string Digest, IReadOnlyList<string> RepoTags, IReadOnlyList<string> RepoDigests,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? Created,
    JsonElement Config,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Author,
    string Architecture, string Os,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Variant,
    long Size, long VirtualSize, IReadOnlyDictionary<string, string> Labels,
    [property: JsonPropertyName("RootFS")] RootFsInspect RootFs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? History,
    string ManifestType, IReadOnlyList<LayerInspect> Layers,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Annotations);

/// <summary>The RootFS part of an image inspect.</summary>
public sealed record RootFsInspect(string Type, IReadOnlyList<string> Layers);

/// <summary>One layer of an image inspect.</summary>
public sealed record LayerInspect(
    string MediaType, string Digest, long Size,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? UncompressedSize);

/// <summary><c>inspect --remote REF</c>, shaped like skopeo inspect: config fields absent from the config print as null.</summary>
public sealed record RemoteInspect(
    string Name, string Digest, IReadOnlyList<string> RepoTags, JsonElement? Created, string? DockerVersion, JsonElement? Labels,
    JsonElement? Architecture,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Variant,
    JsonElement? Os, IReadOnlyList<string> Layers, IReadOnlyList<RemoteLayer> LayersData, JsonElement? Env);

/// <summary>One layer of a remote inspect.</summary>
public sealed record RemoteLayer(
    [property: JsonPropertyName("MIMEType")] string MimeType, string Digest, long Size, IReadOnlyDictionary<string, string>? Annotations);

/// <summary>One row of <c>history --format json</c>.</summary>
public sealed record HistoryJsonRow(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? Created,
    [property: JsonPropertyName("createdBy")] string CreatedBy,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("comment")] string Comment,
    [property: JsonPropertyName("emptyLayer")] bool EmptyLayer);

/// <summary>One row of <c>ps --format json</c>.</summary>
public sealed record ContainerRow(string Id, string Image, string ImageID, IReadOnlyList<string> Names, DateTimeOffset Created, bool Mounted, string State);

/// <summary><c>diff --format json</c>.</summary>
public sealed record DiffJson(
    [property: JsonPropertyName("added")] IReadOnlyList<string> Added,
    [property: JsonPropertyName("changed")] IReadOnlyList<string> Changed,
    [property: JsonPropertyName("deleted")] IReadOnlyList<string> Deleted);

/// <summary><c>df --format json</c>.</summary>
public sealed record DiskUsageJson(long ImagesSize, long Reclaimable, IReadOnlyList<ImageUsageJson> Images, IReadOnlyList<ContainerUsageJson> Containers,
    int Leftovers, long LeftoversSize);

/// <summary>An image in <c>df --format json</c>.</summary>
public sealed record ImageUsageJson(string Id, IReadOnlyList<string> RepoTags, long Size, long SharedSize, long UniqueSize, int Containers);

/// <summary>A container in <c>df --format json</c>.</summary>
public sealed record ContainerUsageJson(string Id, string Name, long Size);

/// <summary>system check --format json.</summary>
public sealed record CheckJson(IReadOnlyList<ProblemJson> Problems, IReadOnlyList<string> RemovedImages);

/// <summary>A problem in <c>system check --format json</c>.</summary>
public sealed record ProblemJson(string Subject, string Problem, bool Repaired);

/// <summary>The output shapes, serialized without reflection (NativeAOT).</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(List<ImageRow>))]
[JsonSerializable(typeof(List<ImageInspect>))]
[JsonSerializable(typeof(RemoteInspect))]
[JsonSerializable(typeof(List<RemoteInspect>))]
[JsonSerializable(typeof(List<HistoryJsonRow>))]
[JsonSerializable(typeof(List<ContainerRow>))]
[JsonSerializable(typeof(DiffJson))]
[JsonSerializable(typeof(DiskUsageJson))]
[JsonSerializable(typeof(CheckJson))]
public sealed partial class CliJsonContext : JsonSerializerContext;
