using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Oci;

/// <summary>
/// The image configuration. Only read from raw bytes; the image ID is the digest of those bytes, so a config
/// is never re-serialized to compute an identity. Unknown fields survive through <see cref="Extra"/>.
/// </summary>
public sealed class ImageConfig
{
    /// <summary>When the image (or history step) was made.</summary>
    [JsonPropertyName("created")] public DateTimeOffset? Created { get; set; }
    /// <summary>Who made it.</summary>
    [JsonPropertyName("author")] public string? Author { get; set; }
    /// <summary>The CPU architecture the binaries are for (GOARCH names: amd64, arm64, ...).</summary>
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "";
    /// <summary>The operating system (linux).</summary>
    [JsonPropertyName("os")] public string Os { get; set; } = "";
    /// <summary>The operating system version, where it matters.</summary>
    [JsonPropertyName("os.version")] public string? OsVersion { get; set; }
    /// <summary>Operating system features required.</summary>
    [JsonPropertyName("os.features")] public List<string>? OsFeatures { get; set; }
    /// <summary>The CPU variant (v7, v8, ...).</summary>
    [JsonPropertyName("variant")] public string? Variant { get; set; }
    /// <summary>How a container of the image runs.</summary>
    [JsonPropertyName("config")] public ContainerConfig? Config { get; set; }
    /// <summary>The layers' DiffIDs, base first.</summary>
    [JsonPropertyName("rootfs")] public RootFs RootFs { get; set; } = new();
    /// <summary>One entry per build step, layers and empty steps alike.</summary>
    [JsonPropertyName("history")] public List<HistoryEntry>? History { get; set; }
    /// <summary>Fields this model does not know; kept so a rewrite does not drop them.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>How a container of the image runs: the "config" object of the image configuration.</summary>
public sealed class ContainerConfig
{
    /// <summary>The user (and group) the process runs as.</summary>
    [JsonPropertyName("User")] public string? User { get; set; }
    /// <summary>Ports the container listens on ("80/tcp").</summary>
    [JsonPropertyName("ExposedPorts")] public Dictionary<string, JsonElement>? ExposedPorts { get; set; }
    /// <summary>The environment, as KEY=VALUE.</summary>
    [JsonPropertyName("Env")] public List<string>? Env { get; set; }
    /// <summary>The command run, before <see cref="Cmd"/>.</summary>
    [JsonPropertyName("Entrypoint")] public List<string>? Entrypoint { get; set; }
    /// <summary>The default arguments (or the command, without an entrypoint).</summary>
    [JsonPropertyName("Cmd")] public List<string>? Cmd { get; set; }
    /// <summary>Directories meant to hold data outside the image.</summary>
    [JsonPropertyName("Volumes")] public Dictionary<string, JsonElement>? Volumes { get; set; }
    /// <summary>The process's working directory.</summary>
    [JsonPropertyName("WorkingDir")] public string? WorkingDir { get; set; }
    /// <summary>Free-form metadata.</summary>
    [JsonPropertyName("Labels")] public Dictionary<string, string>? Labels { get; set; }
    /// <summary>The signal that asks the process to stop.</summary>
    [JsonPropertyName("StopSignal")] public string? StopSignal { get; set; }
    /// <summary>A Windows detail docker records; kept as read.</summary>
    [JsonPropertyName("ArgsEscaped")] public bool? ArgsEscaped { get; set; }
    /// <summary>Fields this model does not know; kept so a rewrite does not drop them.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>The image's layers by DiffID.</summary>
public sealed class RootFs
{
    /// <summary>Always "layers".</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "layers";
    /// <summary>The digest of each layer's uncompressed tar, base first.</summary>
    [JsonPropertyName("diff_ids")] public List<Digest> DiffIds { get; set; } = [];
}

/// <summary>One build step of the image.</summary>
public sealed class HistoryEntry
{
    /// <summary>When the image (or history step) was made.</summary>
    [JsonPropertyName("created")] public DateTimeOffset? Created { get; set; }
    /// <summary>The instruction that made the step.</summary>
    [JsonPropertyName("created_by")] public string? CreatedBy { get; set; }
    /// <summary>Who made it.</summary>
    [JsonPropertyName("author")] public string? Author { get; set; }
    /// <summary>A comment on the step.</summary>
    [JsonPropertyName("comment")] public string? Comment { get; set; }
    /// <summary>True when the step made no layer.</summary>
    [JsonPropertyName("empty_layer")] public bool? EmptyLayer { get; set; }
    /// <summary>Fields this model does not know; kept so a rewrite does not drop them.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}
