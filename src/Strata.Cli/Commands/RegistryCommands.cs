using System.CommandLine;
using Strata.Cli.Output;
using Strata.Errors;
using Strata.Oci;
using Strata.Registry;
using Strata.Union;

namespace Strata.Cli.Commands;

/// <summary>The registry verbs: pull, push, login, logout, manifest (and inspect --remote in ImageViews).</summary>
public static class RegistryCommands
{
    public static readonly Option<string?> TlsVerify = new("--tls-verify")
    {
        Description = "Verify TLS certificates (default true; false also allows plain HTTP). Loopback registries may use plain HTTP regardless",
        Arity = ArgumentArity.ZeroOrOne,
    };
    public static readonly Option<string?> Creds = new("--creds") { Description = "USER[:PASSWORD] for the registry" };
    public static readonly Option<string?> AuthFilePath = new("--authfile") { Description = "Auth file to read credentials from (default: $REGISTRY_AUTH_FILE, then the containers and docker defaults)" };

    public static RegistryOptions Options(ParseResult p)
    {
        bool? tls = p.GetValue(TlsVerify) switch
        {
            null => null,
            "" or "true" => true,
            "false" => false,
            var v => throw StrataException.BadArgument($"--tls-verify takes true or false, not \"{v}\""),
        };
        return new RegistryOptions
        {
            TlsVerify = tls,
            Credentials = p.GetValue(Creds) is { } c ? RegistryCredentials.Parse(c.Contains(':') ? c : c + ":" + RemoteCommands.Prompt("Password: ", echo: false)) : null,
            AuthFilePath = p.GetValue(AuthFilePath),
        };
    }

    public static Command Pull()
    {
        var reference = new Argument<string>("REFERENCE") { Description = "registry/repository[:tag|@digest]" };
        var platform = new Option<string?>("--platform") { Description = "os/arch[/variant] to pick from an index (default: this machine's)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the image ID" };
        var cmd = new Command("pull", "Pull an image from a registry") { reference, platform, quiet, TlsVerify, Creds, AuthFilePath };
        cmd.SetAction((p, ct) => Task.FromResult(Cli.WithStore(p, store =>
        {
            var r = ImageReference.Parse(p.GetValue(reference)!);
            var want = p.GetValue(platform) is { } pl ? PlatformMatcher.Parse(pl) : null;
            var layers = new ContainerStore(store, p.GetValue(Cli.DriverOption)).Layers;
            using var display = p.GetValue(quiet) ? null : new TransferDisplay();
            var result = new ImagePuller(store, layers, Options(p), (ITransferProgress?)display ?? NoProgress.Instance)
                .PullAsync(r, want, ct).GetAwaiter().GetResult();
            display?.Dispose();
            Console.WriteLine(result.ImageId.Encoded);
            return 0;
        })));
        return cmd;
    }

    public static Command Push()
    {
        var image = new Argument<string>("IMAGE") { Description = "A stored image: name or ID" };
        var destination = new Argument<string?>("DESTINATION") { Description = "registry/repository[:tag] (default: the IMAGE name)", Arity = ArgumentArity.ZeroOrOne };
        var format = new Option<string?>("--format", "-f") { Description = "Manifest format: oci or v2s2 (default: the image's own)" };
        format.AcceptOnlyFromAmong("oci", "v2s2");
        var digestFile = new Option<string?>("--digestfile") { Description = "Write the pushed manifest's digest to this file" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output" };
        var cmd = new Command("push", "Push an image to a registry") { image, destination, format, digestFile, quiet, TlsVerify, Creds, AuthFilePath };
        cmd.SetAction((p, ct) => Task.FromResult(Cli.WithStore(p, store =>
        {
            var source = p.GetValue(image)!;
            var local = store.Resolve(source);
            var dest = ImageReference.Parse(p.GetValue(destination) ?? source);
            var f = p.GetValue(format) switch { "oci" => ManifestFormat.Oci, "v2s2" => ManifestFormat.DockerV2S2, _ => ManifestFormat.Keep };
            using var display = p.GetValue(quiet) ? null : new TransferDisplay();
            var result = new ImagePusher(store, Options(p), (ITransferProgress?)display ?? NoProgress.Instance)
                .PushAsync(local, dest, f, ct).GetAwaiter().GetResult();
            display?.Dispose();
            if (p.GetValue(digestFile) is { } path) File.WriteAllText(path, result.ManifestDigest.ToString());
            return 0;
        })));
        return cmd;
    }
}
