using System.CommandLine;
using System.Text.Json;
using Strata.Cli.Output;
using Strata.Errors;
using Strata.Union;

namespace Strata.Cli.Commands;

/// <summary>export and df.</summary>
public static class SpaceCommands
{
    public static Command Export()
    {
        var container = new Argument<string>("CONTAINER");
        var output = new Option<string?>("--output", "-o") { Description = "Tar file to write (default: standard output)" };
        var cmd = new Command("export", "Export a container's merged filesystem as a tar") { container, output };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            // Read through the managed union view: no mount, no privilege needed.
            if (p.GetValue(output) is { } path)
            {
                await engine.ExportAsync(p.GetValue(container)!, path, ct);
                return 0;
            }
            var c = await engine.GetContainerAsync(p.GetValue(container)!, ct);
            if (!Console.IsOutputRedirected) throw new StrataException(ErrorKind.InvalidArgument, "refusing to write a tar to a terminal: use --output or redirect");
            using var stdout = Output.StdStreams.Output();
            await engine.ExportToStreamAsync(c.Id, stdout, ct);
            return 0;
        }));
        return cmd;
    }

    public static Command Df()
    {
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Per image and per container" };
        var format = new Option<string?>("--format") { Description = "table (default) or json" };
        var cmd = new Command("df", "Show disk usage: images, shared and unique sizes, containers") { verbose, format };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var report = await engine.DiskUsageAsync(ct);
            var (images, containers) = (report.Images, report.Containers);
            long imagesSize = report.ImagesTotal;
            long reclaimable = report.ImagesReclaimable;
            if (p.GetValue(format) is "json") return Json(report, imagesSize, reclaimable);
            if (!p.GetValue(verbose))
            {
                var t = new Table("TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
                t.Add("Images", images.Count.ToString(), images.Count(i => i.Containers > 0).ToString(), Humanize.Size(imagesSize), Humanize.Size(reclaimable));
                t.Add("Containers", containers.Count.ToString(), "0", Humanize.Size(containers.Sum(c => c.Size)), Humanize.Size(containers.Sum(c => c.Size)));
                // What interrupted operations left and nothing uses: prune frees all of it.
                t.Add("Leftovers", report.LeftoverCount.ToString(), "0", Humanize.Size(report.LeftoverSize), Humanize.Size(report.LeftoverSize));
                t.Write(Console.Out);
                return 0;
            }
            Console.WriteLine("Images space usage:\n");
            var it = new Table("REPOSITORY", "TAG", "IMAGE ID", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS");
            foreach (var i in images)
            {
                var name = i.Image.Names.Count > 0 ? i.Image.Names[0] : "<none>:<none>";
                int colon = name.LastIndexOf(':');
                it.Add(name[..colon], name[(colon + 1)..], i.Image.Id.Short, Humanize.Size(i.Size), Humanize.Size(i.SharedSize), Humanize.Size(i.UniqueSize), i.Containers.ToString());
            }
            it.Write(Console.Out);
            Console.WriteLine("\nContainers space usage:\n");
            var table = new Table("CONTAINER ID", "IMAGE", "SIZE", "NAMES");
            foreach (var c in containers) table.Add(c.Container.Id[..12], c.Container.ImageId.Short, Humanize.Size(c.Size), c.Container.Name);
            table.Write(Console.Out);
            return 0;
        }));
        return cmd;
    }

    private static int Json(SpaceReport report, long imagesSize, long reclaimable) =>
        JsonOutput.Write(new DiskUsageJson(imagesSize, reclaimable,
            report.Images.Select(i => new ImageUsageJson(i.Image.Id.Encoded, i.Image.Names, i.Size, i.SharedSize, i.UniqueSize, i.Containers)).ToList(),
            report.Containers.Select(c => new ContainerUsageJson(c.Container.Id, c.Container.Name, c.Size)).ToList(),
            report.LeftoverCount, report.LeftoverSize));
}
