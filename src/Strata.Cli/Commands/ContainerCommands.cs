using System.CommandLine;
using System.Text.Json;
using Strata.Cli.Output;
using Strata.Errors;
using Strata.Oci;
using Strata.Engine;
using Strata.Union;

namespace Strata.Cli.Commands;

/// <summary>Containers: create, mount, umount, ps, rm, diff, commit; and read-only image mounts.</summary>
public static class ContainerCommands
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE");
        var name = new Option<string?>("--name") { Description = "Name the container" };
        var cmd = new Command("create", "Create a container: a thin writable layer on an image") { image, name };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var c = await engine.CreateContainerAsync(p.GetValue(image)!, p.GetValue(name), new LineProgress(Console.Error), ct);
            Console.WriteLine(c.Id);
            return 0;
        }));
        return cmd;
    }

    public static Command Mount()
    {
        var container = new Argument<string>("CONTAINER");
        var cmd = new Command("mount", "Mount a container's merged view and print its path") { container };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            Console.WriteLine(await engine.MountContainerAsync(p.GetValue(container)!, ct));
            return 0;
        }));
        return cmd;
    }

    public static Command Umount()
    {
        var container = new Argument<string>("CONTAINER");
        var force = new Option<bool>("--force", "-f") { Description = "Unmount even if other users still count on it" };
        var cmd = new Command("umount", "Unmount a container's merged view") { container, force };
        cmd.Aliases.Add("unmount");
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var c = await engine.UnmountContainerAsync(p.GetValue(container)!, p.GetValue(force), ct);
            Console.WriteLine(c.Id);
            return 0;
        }));
        return cmd;
    }

    public static Command Ps()
    {
        var all = new Option<bool>("--all", "-a") { Description = "All containers (none run: same as without)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Only IDs" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "Full IDs" };
        var format = new Option<string?>("--format") { Description = "table (default) or json" };
        var cmd = new Command("ps", "List containers") { all, quiet, noTrunc, format };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var list = await engine.ListContainersAsync(ct);
            string Id(ContainerSummary s) => p.GetValue(noTrunc) ? s.Container.Id : s.Container.Id[..12];
            if (p.GetValue(quiet))
            {
                foreach (var c in list) Console.WriteLine(Id(c));
                return 0;
            }
            if (p.GetValue(format) is "json")
            {
                return JsonOutput.Write(list.Select(s => new ContainerRow(s.Container.Id, s.ImageName, s.Container.ImageId.Encoded,
                    [s.Container.Name], s.Container.Created, s.Mounted, "created")).ToList());
            }
            var table = new Table("CONTAINER ID", "IMAGE", "CREATED", "STATUS", "NAMES");
            var now = DateTimeOffset.UtcNow;
            foreach (var s in list)
                table.Add(Id(s), s.ImageName, Humanize.Ago(s.Container.Created, now), s.MountDead ? "Created (dead mount)" : s.Mounted ? "Created (mounted)" : "Created", s.Container.Name);
            table.Write(Console.Out);
            return 0;
        }));
        return cmd;
    }

    public static Command Rm()
    {
        var names = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "Remove even when mounted" };
        var cmd = new Command("rm", "Remove containers and their writable layers") { names, force };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            foreach (var n in p.GetValue(names)!)
            {
                var c = await engine.RemoveContainerAsync(n, p.GetValue(force), ct);
                Console.WriteLine(c.Id);
            }
            return 0;
        }));
        return cmd;
    }

    public static Command Diff()
    {
        var container = new Argument<string>("CONTAINER");
        var format = new Option<string?>("--format") { Description = "table (default) or json" };
        var cmd = new Command("diff", "Show what changed in a container (A added, C changed, D deleted)") { container, format };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var changes = await engine.DiffAsync(p.GetValue(container)!, ct);
            if (p.GetValue(format) is "json")
            {
                List<string> Of(char kind) => changes.Where(x => x.Kind == kind).Select(x => x.Path).ToList();
                return JsonOutput.Write(new DiffJson(Of('A'), Of('C'), Of('D')));
            }
            foreach (var ch in changes) Console.WriteLine($"{ch.Kind} {ch.Path}");
            return 0;
        }));
        return cmd;
    }

    public static Command Commit()
    {
        var container = new Argument<string>("CONTAINER");
        var reference = new Argument<string?>("IMAGE") { Arity = ArgumentArity.ZeroOrOne };
        var message = new Option<string?>("--message", "-m") { Description = "Commit message" };
        var author = new Option<string?>("--author", "-a") { Description = "Author" };
        var change = new Option<string[]>("--change", "-c") { Description = "Dockerfile instruction for the config (CMD, ENV, ...)", AllowMultipleArgumentsPerToken = false };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the image ID" };
        var compression = new Option<string>("--compression") { Description = "none (default), gzip or zstd", DefaultValueFactory = _ => "none" };
        compression.AcceptOnlyFromAmong("none", "gzip", "zstd");
        var cmd = new Command("commit", "Create an image from a container's changes") { container, reference, message, author, change, quiet, compression };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var image = await engine.CommitAsync(p.GetValue(container)!, new CommitOptions
            {
                Reference = p.GetValue(reference),
                Message = p.GetValue(message),
                Author = p.GetValue(author),
                Changes = p.GetValue(change) ?? [],
                Compression = p.GetValue(compression) switch { "gzip" => Compression.Gzip, "zstd" => Compression.Zstd, _ => Compression.None },
            }, ct);
            Console.WriteLine(image.Id);
            return 0;
        }));
        return cmd;
    }

    public static Command Image()
    {
        var mountImage = new Argument<string>("IMAGE");
        var mount = new Command("mount", "Mount an image read-only and print its path") { mountImage };
        mount.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            Console.WriteLine(await engine.MountImageAsync(p.GetValue(mountImage)!, ct));
            return 0;
        }));
        var umountImage = new Argument<string>("IMAGE");
        var force = new Option<bool>("--force", "-f");
        var umount = new Command("umount", "Unmount an image") { umountImage, force };
        umount.Aliases.Add("unmount");
        umount.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            Console.WriteLine(await engine.UnmountImageAsync(p.GetValue(umountImage)!, p.GetValue(force), ct));
            return 0;
        }));
        return new Command("image", "Image commands that need the layer store") { mount, umount };
    }
}
