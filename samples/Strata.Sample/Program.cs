// A program that builds an image without a container daemon: import a directory as a base image, change it in a
// container, commit the change, and save the result as an OCI archive (or push it when a destination is given).
//
//   dotnet run -- STORE ROOTFS OUTPUT.tar [REGISTRY/REPO:TAG]
using Strata.Engine;
using Strata.Errors;
using Strata.Images;
using Strata.Union;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: Strata.Sample STORE ROOTFS OUTPUT.tar [REGISTRY/REPO:TAG]");
    return 2;
}
var (store, rootfs, output) = (args[0], args[1], args[2]);
using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
var ct = cancel.Token;

// vfs keeps containers as plain directories: no mount, no privilege needed.
var engine = new StrataEngine(new StrataEngineOptions { Root = store, Driver = StorageDriver.Vfs });
try
{
    var base1 = await engine.ImportAsync(rootfs, new ImportOptions { Reference = "localhost/sample/base:1" }, ct);
    Console.WriteLine($"base image {base1.Id}");

    var container = await engine.CreateContainerAsync("localhost/sample/base:1", "sample-build", cancellationToken: ct);
    var tree = await engine.MountContainerAsync(container.Name, ct);
    await File.WriteAllTextAsync(Path.Combine(tree, "hello.txt"), "hello from a .NET program\n", ct);
    await engine.UnmountContainerAsync(container.Name, cancellationToken: ct);
    foreach (var change in await engine.DiffAsync(container.Name, ct)) Console.WriteLine($"{change.Kind} {change.Path}");

    var image = await engine.CommitAsync(container.Name, new CommitOptions
    {
        Reference = "localhost/sample/app:1",
        Message = "add hello.txt",
        Changes = ["CMD [\"/bin/cat\", \"/hello.txt\"]"],
    }, ct);
    await engine.RemoveContainerAsync(container.Name, cancellationToken: ct);
    Console.WriteLine($"committed {image.Id}");

    await engine.SaveAsync(["localhost/sample/app:1"], output, SaveFormat.OciArchive, ct);
    Console.WriteLine($"saved {output}");
    if (args.Length > 3)
    {
        var pushed = await engine.PushAsync("localhost/sample/app:1", args[3], cancellationToken: ct);
        Console.WriteLine($"pushed {args[3]}@{pushed.ManifestDigest}");
    }
    return 0;
}
catch (StrataException e)
{
    Console.Error.WriteLine($"sample: {e.Kind}: {e.Message}");
    return 1;
}
