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
            if (p.GetValue(format) is "json") return JsonOutput.Write(ImagesJson(records));
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

    private static List<ImageRow> ImagesJson(IReadOnlyList<ImageRecord> records) =>
        records.Select(r => new ImageRow(r.Id.Encoded, r.ManifestDigest.ToString(), r.Names, r.Names, r.Created?.ToUnixTimeSeconds(),
            r.Created?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "", r.Size)).ToList();

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
            var shapes = new List<ImageInspect>();
            foreach (var image in p.GetValue(images)!) shapes.Add(InspectJson(await engine.InspectImageAsync(image, ct)));
            return JsonOutput.Write(shapes);
        }, RegistryCommands.Options));
        return cmd;
    }

    private static ImageInspect InspectJson(ImageDetails image)
    {
        using var config = JsonDocument.Parse(image.RawConfig);
        var root = config.RootElement;
        var record = image.Record;
        return new ImageInspect(
            image.Id.Encoded, record.ManifestDigest.ToString(), record.Names,
            record.Names.Select(n => $"{n[..n.LastIndexOf(':')]}@{record.ManifestDigest}").Distinct().ToList(),
            image.Config.Created,
            root.TryGetProperty("config", out var cc) ? cc.Clone() : EmptyObject,
            image.Config.Author, image.Config.Architecture, image.Config.Os, image.Config.Variant,
            record.Size, record.Size,
            image.Config.Config?.Labels ?? [],
            new RootFsInspect(image.Config.RootFs.Type, image.Config.RootFs.DiffIds.Select(d => d.ToString()).ToList()),
            root.TryGetProperty("history", out var history) ? history.Clone() : null,
            record.ManifestMediaType,
            image.Manifest.Layers.Select((l, i) => new LayerInspect(l.MediaType, l.Digest.ToString(), l.Size, image.LayerUncompressedSizes[i])).ToList(),
            image.Manifest.Annotations is { Count: > 0 } ann ? ann : null);
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

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
                return JsonOutput.Write(rows.Select(r => new HistoryJsonRow(r.Id?.Encoded ?? "<missing>", r.Created, r.CreatedBy, r.Size, r.Comment, r.Empty)).ToList());
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
