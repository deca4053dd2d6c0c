using System.CommandLine;
using System.Text.Json;
using Strata.Cli.Output;
using Strata.Engine;
using Strata.Storage;

namespace Strata.Cli.Commands;

/// <summary>images, inspect and history: table output like docker/podman, or JSON.</summary>
public static partial class ImageCommands
{
    public static Command Images()
    {
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only image IDs" };
        var format = new Option<string?>("--format") { Description = "table (default) or json" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "Do not truncate IDs" };
        var cmd = new Command("images", "List images") { quiet, format, noTrunc };
        cmd.Aliases.Add("ls");
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var records = await engine.ListImagesAsync(ct);
            bool full = p.GetValue(noTrunc);
            string Id(ImageRecord r) => full ? r.Id.ToString() : r.Id.Short;
            if (p.GetValue(quiet))
            {
                foreach (var id in records.Select(Id).Distinct()) Console.WriteLine(id);
                return 0;
            }
            if (p.GetValue(format) is "json") return JsonOutput.Write(w => ImagesJson(w, records));
            var now = DateTimeOffset.UtcNow;
            var table = new Table("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
            foreach (var r in records)
            {
                var names = r.Names.Count > 0 ? r.Names : ["<none>:<none>"];
                foreach (var n in names)
                {
                    int colon = n.LastIndexOf(':');
                    table.Add(n[..colon], n[(colon + 1)..], Id(r), Humanize.Ago(r.Created, now), Humanize.Size(r.Size));
                }
            }
            table.Write(Console.Out);
            return 0;
        }));
        return cmd;
    }

    private static void ImagesJson(Utf8JsonWriter w, IReadOnlyList<ImageRecord> records)
    {
        w.WriteStartArray();
        foreach (var r in records)
        {
            w.WriteStartObject();
            w.WriteString("Id", r.Id.Encoded);
            w.WriteString("Digest", r.ManifestDigest.ToString());
            w.WriteStrings("RepoTags", r.Names);
            w.WriteStrings("Names", r.Names);
            if (r.Created is { } c) w.WriteNumber("Created", c.ToUnixTimeSeconds());
            w.WriteString("CreatedAt", r.Created?.ToString("O") ?? "");
            w.WriteNumber("Size", r.Size);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static Command Inspect()
    {
        var images = new Argument<string[]>("IMAGE") { Arity = ArgumentArity.OneOrMore };
        var format = new Option<string?>("--format", "-f") { Description = "json (default)" };
        var remote = new Option<bool>("--remote") { Description = "Inspect IMAGE in its registry without pulling it, as skopeo inspect" };
        var platform = new Option<string?>("--platform") { Description = "os/arch[/variant] to pick from a remote index" };
        var cmd = new Command("inspect", "Show an image's configuration and layers, as podman image inspect")
        {
            images, format, remote, platform, RegistryCommands.TlsVerify, RegistryCommands.Creds, RegistryCommands.AuthFilePath,
        };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            if (p.GetValue(remote)) return await RemoteCommands.InspectRemote(engine, p.GetValue(images)!, p.GetValue(platform), ct);
            var details = new List<ImageDetails>();
            foreach (var image in p.GetValue(images)!) details.Add(await engine.InspectImageAsync(image, ct));
            return JsonOutput.Write(w =>
            {
                w.WriteStartArray();
                foreach (var image in details) InspectJson(w, image);
                w.WriteEndArray();
            });
        }, RegistryCommands.Options));
        return cmd;
    }

    private static void InspectJson(Utf8JsonWriter w, ImageDetails image)
    {
        using var config = JsonDocument.Parse(image.RawConfig);
        var root = config.RootElement;
        w.WriteStartObject();
        w.WriteString("Id", image.Id.Encoded);
        w.WriteString("Digest", image.Record.ManifestDigest.ToString());
        w.WriteStrings("RepoTags", image.Record.Names);
        w.WriteStrings("RepoDigests", image.Record.Names.Select(n => $"{n[..n.LastIndexOf(':')]}@{image.Record.ManifestDigest}").Distinct());
        if (image.Config.Created is { } created) w.WriteString("Created", created);
        if (root.TryGetProperty("config", out var cc)) { w.WritePropertyName("Config"); cc.WriteTo(w); }
        else { w.WriteStartObject("Config"); w.WriteEndObject(); }
        if (image.Config.Author is { } author) w.WriteString("Author", author);
        w.WriteString("Architecture", image.Config.Architecture);
        w.WriteString("Os", image.Config.Os);
        if (image.Config.Variant is { } v) w.WriteString("Variant", v);
        w.WriteNumber("Size", image.Record.Size);
        w.WriteNumber("VirtualSize", image.Record.Size);
        w.WriteStartObject("Labels");
        foreach (var (k, val) in image.Config.Config?.Labels ?? []) w.WriteString(k, val);
        w.WriteEndObject();
        w.WriteStartObject("RootFS");
        w.WriteString("Type", image.Config.RootFs.Type);
        w.WriteStrings("Layers", image.Config.RootFs.DiffIds.Select(d => d.ToString()));
        w.WriteEndObject();
        if (root.TryGetProperty("history", out var history)) { w.WritePropertyName("History"); history.WriteTo(w); }
        w.WriteString("ManifestType", image.Record.ManifestMediaType);
        w.WriteStartArray("Layers");
        for (int i = 0; i < image.Manifest.Layers.Count; i++)
        {
            var l = image.Manifest.Layers[i];
            w.WriteStartObject();
            w.WriteString("MediaType", l.MediaType);
            w.WriteString("Digest", l.Digest.ToString());
            w.WriteNumber("Size", l.Size);
            if (image.LayerUncompressedSizes[i] is { } uncompressed) w.WriteNumber("UncompressedSize", uncompressed);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (image.Manifest.Annotations is { Count: > 0 } ann)
        {
            w.WriteStartObject("Annotations");
            foreach (var (k, val) in ann) w.WriteString(k, val);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    public static Command History()
    {
        var image = new Argument<string>("IMAGE");
        var format = new Option<string?>("--format") { Description = "table (default) or json" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "Do not truncate output" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the IDs" };
        var human = new Option<bool>("--human", "-H") { Description = "Human-readable sizes and dates", DefaultValueFactory = _ => true };
        var cmd = new Command("history", "Show the history of an image") { image, format, noTrunc, quiet, human };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var rows = await engine.HistoryAsync(p.GetValue(image)!, ct);
            bool full = p.GetValue(noTrunc);
            if (p.GetValue(quiet))
            {
                foreach (var r in rows) Console.WriteLine(r.Id is { } id ? (full ? id.ToString() : id.Short) : "<missing>");
                return 0;
            }
            if (p.GetValue(format) is "json")
            {
                return JsonOutput.Write(w =>
                {
                    w.WriteStartArray();
                    foreach (var r in rows)
                    {
                        w.WriteStartObject();
                        w.WriteString("id", r.Id?.Encoded ?? "<missing>");
                        if (r.Created is { } c) w.WriteString("created", c);
                        w.WriteString("createdBy", r.CreatedBy);
                        w.WriteNumber("size", r.Size);
                        w.WriteString("comment", r.Comment);
                        w.WriteBoolean("emptyLayer", r.Empty);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
            }
            var now = DateTimeOffset.UtcNow;
            var table = new Table("IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT");
            foreach (var r in rows)
            {
                var by = full || r.CreatedBy.Length <= 45 ? r.CreatedBy : r.CreatedBy[..44] + "…";
                table.Add(r.Id is { } id ? (full ? id.ToString() : id.Short) : "<missing>",
                    p.GetValue(human) ? Humanize.Ago(r.Created, now) : r.Created?.ToString("O") ?? "",
                    by, p.GetValue(human) ? (r.Size == 0 ? "0B" : Humanize.Size(r.Size)) : r.Size.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    r.Comment);
            }
            table.Write(Console.Out);
            return 0;
        }));
        return cmd;
    }


}
