using System.CommandLine;
using Strata.Engine;
using Strata.Errors;
using Strata.Images;

namespace Strata.Cli.Commands;

/// <summary>The image verbs: load, save, import, tag, rmi, unpack, prune (listing and inspection live in ImageViews).</summary>
public static partial class ImageCommands
{
    public static Command Load()
    {
        var input = new Option<string?>("--input", "-i") { Description = "docker-archive or oci-archive tar, or OCI layout directory (default: standard input)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the image IDs" };
        var cmd = new Command("load", "Load images from an archive or an OCI layout") { input, quiet };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            IReadOnlyList<LoadedImage> loaded;
            if (p.GetValue(input) is { } path and not "-")
            {
                loaded = await engine.LoadAsync(path, ct);
            }
            else
            {
                using var stdin = Output.StdStreams.Input();
                loaded = await engine.LoadFromStreamAsync(stdin, "standard input", ct);
            }
            foreach (var image in loaded)
            {
                if (p.GetValue(quiet)) Console.WriteLine(image.Id);
                else if (image.Names.Count == 0) Console.WriteLine($"Loaded image: {image.Id}");
                else foreach (var n in image.Names) Console.WriteLine($"Loaded image: {n}");
            }
            return 0;
        }));
        return cmd;
    }

    public static Command Save()
    {
        var output = new Option<string?>("--output", "-o") { Description = "Where to write (default: standard output, for archives)" };
        var format = new Option<string>("--format") { Description = "docker-archive, oci-archive or oci-dir", DefaultValueFactory = _ => "docker-archive" };
        format.AcceptOnlyFromAmong("docker-archive", "oci-archive", "oci-dir");
        var images = new Argument<string[]>("IMAGE") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("save", "Save images to an archive or an OCI layout") { output, format, images };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var list = p.GetValue(images)!;
            var f = p.GetValue(format) switch
            {
                "oci-archive" => SaveFormat.OciArchive,
                "oci-dir" => SaveFormat.OciDir,
                _ => SaveFormat.DockerArchive,
            };
            if (p.GetValue(output) is { } path and not "-")
            {
                await engine.SaveAsync(list, path, f, ct);
                return 0;
            }
            if (f == SaveFormat.OciDir) throw new StrataException(ErrorKind.InvalidArgument, "oci-dir needs --output DIR");
            if (!Console.IsOutputRedirected) throw new StrataException(ErrorKind.InvalidArgument, "refusing to write an archive to a terminal: use --output or redirect");
            using var stdout = Output.StdStreams.Output();
            await engine.SaveToStreamAsync(list, stdout, f, ct);
            return 0;
        }));
        return cmd;
    }

    public static Command Import()
    {
        var source = new Argument<string>("SOURCE") { Description = "A rootfs directory or a tar (plain, gzip or zstd)" };
        var reference = new Argument<string?>("REFERENCE") { Arity = ArgumentArity.ZeroOrOne };
        var message = new Option<string?>("--message", "-m") { Description = "Comment for the history entry" };
        var cmd = new Command("import", "Create an image from a rootfs directory or tarball") { source, reference, message };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var image = await engine.ImportAsync(p.GetValue(source)!, new ImportOptions
            {
                Reference = p.GetValue(reference),
                Comment = p.GetValue(message),
                SourceDateEpoch = SourceDateEpoch(),
            }, ct);
            Console.WriteLine(image.Id);
            return 0;
        }));
        return cmd;
    }

    /// <summary>The reproducible-builds convention: SOURCE_DATE_EPOCH fixes timestamps.</summary>
    private static long? SourceDateEpoch() =>
        long.TryParse(Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH"), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;

    public static Command Tag()
    {
        var source = new Argument<string>("SOURCE");
        var targets = new Argument<string[]>("TARGET") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("tag", "Add names to an image") { source, targets };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            await engine.TagAsync(p.GetValue(source)!, p.GetValue(targets)!, ct);
            return 0;
        }));
        return cmd;
    }

    public static Command Rmi()
    {
        var images = new Argument<string[]>("IMAGE") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "Remove the image even when it has several names" };
        var cmd = new Command("rmi", "Remove images") { images, force };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            foreach (var arg in p.GetValue(images)!)
            {
                var removal = await engine.RemoveImageAsync(arg, p.GetValue(force), ct);
                foreach (var n in removal.Untagged) Console.WriteLine($"Untagged: {n}");
                if (removal.Deleted is { } id) Console.WriteLine($"Deleted: {id}");
            }
            return 0;
        }));
        return cmd;
    }

    public static Command Prune()
    {
        var cmd = new Command("prune", "Remove content that no image references");
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var result = await engine.PruneAsync(ct);
            Console.WriteLine($"Removed {result.Blobs} blobs, reclaimed {Output.Humanize.Size(result.Bytes)}");
            return 0;
        }));
        return cmd;
    }

    public static Command Unpack()
    {
        var image = new Argument<string>("IMAGE");
        var target = new Argument<string>("DIR") { Description = "Target directory: created, or empty" };
        var cmd = new Command("unpack", "Unpack an image's layers into a rootfs directory") { image, target };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            await engine.UnpackAsync(p.GetValue(image)!, p.GetValue(target)!, ct);
            return 0;
        }));
        return cmd;
    }
}
