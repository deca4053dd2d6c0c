using Strata.Errors;
using Strata.Images;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// Commit: the writable layer becomes an OCI layer (whiteouts, opaque markers) on top of the image's own layer
/// blobs, which are reused as they are; the config gains the DiffID and a history step.
/// </summary>
internal sealed class ContainerCommitter(StrataStore store, ContainerStore containers)
{
    /// <param name="compression">None by default, as podman keeps committed layers: a local commit should not pay
    /// for compression; saving or pushing can compress.</param>
    public LoadedImage Commit(Container container, IReadOnlyList<string> names, string? message = null, string? author = null,
        IReadOnlyList<string>? changes = null, Compression compression = Compression.None)
    {
        var image = store.Resolve(container.ImageId.ToString());
        var builder = new ImageBuilder(store);
        Descriptor layer;
        using (var lease = store.BeginLease())
        {
            // The container keeps its image, but not an image whose documents went bad and a repair removed.
            if (!lease.Hold(image)) throw StrataException.NotFound($"image {image.Id.Short} was removed meanwhile");
            layer = builder.WriteLayer(containers.LayerEntries(container), compression);
            var diffId = store.Images.GetLayerInfo(layer.Digest)!.Value.DiffId;

            var config = OciDocuments.ParseConfig(image.RawConfig);
            var now = ImageBuilder.Now();
            config.Created = now;
            if (author is not null) config.Author = author;
            config.RootFs.DiffIds.Add(diffId);
            config.History ??= [];
            config.History.Add(new HistoryEntry { Created = now, CreatedBy = "strata commit " + container.Name, Comment = message, Author = author });
            foreach (var change in changes ?? []) ConfigChanges.Apply(config, change);

            // The base layers keep their blobs; only a Docker media type is spelled the OCI way.
            var layers = image.Manifest.Layers.Select(l => new Descriptor
            {
                MediaType = MediaTypes.OciLayerFor(MediaTypes.LayerCompression(l.MediaType)),
                Digest = l.Digest,
                Size = l.Size,
                Annotations = l.Annotations,
            }).Append(layer).ToList();
            return builder.Commit(config, layers, names);
        }
    }
}

/// <summary>docker commit --change: the Dockerfile instructions that only touch the config.</summary>
internal static class ConfigChanges
{
    public static void Apply(ImageConfig config, string change)
    {
        var trimmed = change.Trim();
        int space = trimmed.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0) throw StrataException.BadArgument($"invalid --change \"{change}\"");
        var instruction = trimmed[..space].ToUpperInvariant();
        var value = trimmed[(space + 1)..].Trim();
        var c = config.Config ??= new ContainerConfig();
        switch (instruction)
        {
            case "CMD": c.Cmd = Command(value); break;
            case "ENTRYPOINT": c.Entrypoint = Command(value); break;
            case "WORKDIR": c.WorkingDir = value; break;
            case "USER": c.User = value; break;
            case "STOPSIGNAL": c.StopSignal = value; break;
            case "ENV":
                var (k, v) = KeyValue(value);
                c.Env = [.. (c.Env ?? []).Where(e => !e.StartsWith(k + "=", StringComparison.Ordinal)), $"{k}={v}"];
                break;
            case "LABEL":
                var (lk, lv) = KeyValue(value);
                (c.Labels ??= [])[lk] = lv;
                break;
            case "EXPOSE":
                (c.ExposedPorts ??= [])[value.Contains('/', StringComparison.Ordinal) ? value : value + "/tcp"] = System.Text.Json.JsonDocument.Parse("{}").RootElement.Clone();
                break;
            default:
                throw StrataException.BadArgument($"--change supports CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, USER, WORKDIR, STOPSIGNAL, not {instruction}");
        }
    }

    /// <summary>JSON array form as is; shell form wrapped in /bin/sh -c, as docker does.</summary>
    private static List<string> Command(string value)
    {
        if (value.StartsWith('['))
        {
            try
            {
                return System.Text.Json.JsonSerializer.Deserialize(value, OciJsonContext.Default.ListString) ?? [];
            }
            catch (System.Text.Json.JsonException e)
            {
                throw StrataException.BadArgument($"invalid JSON command {value}: {e.Message}");
            }
        }
        return ["/bin/sh", "-c", value];
    }

    private static (string Key, string Value) KeyValue(string value)
    {
        int eq = value.IndexOf('=', StringComparison.Ordinal);
        int sp = value.IndexOf(' ', StringComparison.Ordinal);
        int cut = eq >= 0 ? eq : sp;
        if (cut <= 0) throw StrataException.BadArgument($"expected KEY=VALUE, got \"{value}\"");
        return (value[..cut], value[(cut + 1)..].Trim('"'));
    }
}
