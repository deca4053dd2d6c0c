using System.CommandLine;
using Strata.Errors;
using Strata.Images;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Cli.Commands;

/// <summary>The image verbs: load, save, import, tag, rmi, unpack, prune (listing and inspection live in ImageViews).</summary>
public static partial class ImageCommands
{
    public static Command Load()
    {
        var input = new Option<string?>("--input", "-i") { Description = "docker-archive or oci-archive tar, or OCI layout directory (default: standard input)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the image IDs" };
        var cmd = new Command("load", "Load images from an archive or an OCI layout") { input, quiet };
        cmd.SetAction(p => Cli.WithStore(p, store =>
        {
            IReadOnlyList<LoadedImage> loaded;
            var path = p.GetValue(input);
            using (StoreLock.Shared(store.Root))
            {
                if (path is null or "-")
                {
                    using var stdin = Console.OpenStandardInput();
                    loaded = new ImageLoader(store).Load(stdin, "standard input");
                }
                else
                {
                    loaded = new ImageLoader(store).Load(path);
                }
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
        cmd.SetAction(p => Cli.WithStore(p, store =>
        {
            var list = p.GetValue(images)!.Select(arg => (store.Resolve(arg), NameFor(store, arg))).ToList();
            var f = p.GetValue(format) switch
            {
                "oci-archive" => SaveFormat.OciArchive,
                "oci-dir" => SaveFormat.OciDir,
                _ => SaveFormat.DockerArchive,
            };
            var path = p.GetValue(output);
            if (path is null or "-")
            {
                if (f == SaveFormat.OciDir) throw StrataException.BadArgument("oci-dir needs --output DIR");
                if (!Console.IsOutputRedirected) throw StrataException.BadArgument("refusing to write an archive to a terminal: use --output or redirect");
                using var stdout = Console.OpenStandardOutput();
                new ImageSaver(store).Save(list, stdout, f);
            }
            else
            {
                new ImageSaver(store).Save(list, path, f);
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>The name an argument stands for, when it is a name (an ID names nothing).</summary>
    private static string? NameFor(StrataStore store, string arg)
    {
        if (!ImageReference.TryParse(arg, out var r) || r.Digest is not null) return null;
        var id = store.ResolveId(arg);
        return id is not null && store.Images.FindByName(r.ToString()) == id ? r.ToString() : null;
    }

    public static Command Import()
    {
        var source = new Argument<string>("SOURCE") { Description = "A rootfs directory or a tar (plain, gzip or zstd)" };
        var reference = new Argument<string?>("REFERENCE") { Arity = ArgumentArity.ZeroOrOne };
        var message = new Option<string?>("--message", "-m") { Description = "Comment for the history entry" };
        var cmd = new Command("import", "Create an image from a rootfs directory or tarball") { source, reference, message };
        cmd.SetAction(p => Cli.WithStore(p, store =>
        {
            var names = p.GetValue(reference) is { } r ? new[] { ImageReference.Parse(r).ToString() } : [];
            var src = p.GetValue(source)!;
            if (!File.Exists(src) && !Directory.Exists(src)) throw StrataException.NotFound($"no such file or directory: {src}");
            LoadedImage image;
            using (StoreLock.Shared(store.Root)) image = new ImageBuilder(store).Import(src, names, comment: p.GetValue(message), sourceDateEpoch: SourceDateEpoch());
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
        cmd.SetAction(p => Cli.WithStore(p, store =>
        {
            var image = store.Resolve(p.GetValue(source)!);
            foreach (var t in p.GetValue(targets)!)
            {
                var r = ImageReference.Parse(t);
                if (r.Digest is not null) throw StrataException.BadArgument($"cannot tag with a digest reference: {t}");
                store.Images.AddName(image.Id, r.ToString());
            }
            return 0;
        }));
        return cmd;
    }

    public static Command Rmi()
    {
        var images = new Argument<string[]>("IMAGE") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "Remove the image even when it has several names" };
        var cmd = new Command("rmi", "Remove images") { images, force };
        cmd.SetAction(p => Cli.WithStore(p, store =>
        {
            foreach (var arg in p.GetValue(images)!)
            {
                var image = store.Resolve(arg);
                var name = NameFor(store, arg);
                if (name is not null && image.Record.Names.Count > 1 && !p.GetValue(force))
                {
                    store.Images.RemoveName(name);
                    Console.WriteLine($"Untagged: {name}");
                    continue;
                }
                if (name is null && image.Record.Names.Count > 1 && !p.GetValue(force))
                    throw new StrataException(ErrorKind.Conflict, $"image {image.Id.Short} has several names ({string.Join(", ", image.Record.Names)}): remove them by name or use --force");
                var users = new Union.ContainerStore(store, recordDriver: false).List().Where(c => c.ImageId == image.Id).Select(c => c.Name).ToList();
                if (users.Count > 0)
                    throw new StrataException(ErrorKind.Conflict, $"image {image.Id.Short} is in use by containers {string.Join(", ", users)}: remove them first");
                foreach (var n in image.Record.Names) Console.WriteLine($"Untagged: {n}");
                store.Images.Delete(image.Id);
                Console.WriteLine($"Deleted: {image.Id}");
            }
            GarbageCollector.Collect(store);
            return 0;
        }));
        return cmd;
    }

    public static Command Prune()
    {
        var cmd = new Command("prune", "Remove content that no image references");
        cmd.SetAction(p => Cli.WithStore(p, store =>
        {
            var (blobs, bytes) = GarbageCollector.Collect(store);
            Console.WriteLine($"Removed {blobs} blobs, reclaimed {Output.Humanize.Size(bytes)}");
            return 0;
        }));
        return cmd;
    }

    public static Command Unpack()
    {
        var image = new Argument<string>("IMAGE");
        var target = new Argument<string>("DIR") { Description = "Target directory: created, or empty" };
        var cmd = new Command("unpack", "Unpack an image's layers into a rootfs directory") { image, target };
        cmd.SetAction(p => Cli.WithStore(p, store =>
        {
            new ImageUnpacker(store).Unpack(store.Resolve(p.GetValue(image)!), p.GetValue(target)!);
            return 0;
        }));
        return cmd;
    }
}
