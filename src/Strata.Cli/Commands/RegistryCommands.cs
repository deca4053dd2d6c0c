using System.CommandLine;
using Strata.Cli.Output;
using Strata.Errors;
using Strata.Oci;
using Strata.Registry;

namespace Strata.Cli.Commands;

/// <summary>The registry verbs: pull, push (login, logout, manifest and inspect --remote in RemoteCommands).</summary>
public static class RegistryCommands
{
    public static readonly Option<string?> TlsVerify = new("--tls-verify")
    {
        Description = "Verify TLS certificates (default true; false also allows plain HTTP). Loopback registries may use plain HTTP regardless",
        Arity = ArgumentArity.ZeroOrOne,
    };
    public static readonly Option<string?> Creds = new("--creds") { Description = "USER[:PASSWORD] for the registry" };
    public static readonly Option<string?> AuthFilePath = new("--authfile") { Description = "Auth file to read credentials from (default: $REGISTRY_AUTH_FILE, then the containers and docker defaults)" };

    /// <summary>Registry settings for commands without registry flags: podman's auth files, tuning from STRATA_REGISTRY_*.</summary>
    public static RegistryOptions Defaults() => Tuned(new RegistryOptions
    {
        AuthFiles = AuthFiles.Podman(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)),
    });

    /// <summary>Registry settings from the command's --tls-verify, --creds and --authfile.</summary>
    public static RegistryOptions Options(ParseResult p)
    {
        bool? tls = p.GetValue(TlsVerify) switch
        {
            null => null,
            "" or "true" => true,
            "false" => false,
            var v => throw new StrataException(ErrorKind.InvalidArgument, $"--tls-verify takes true or false, not \"{v}\""),
        };
        var defaults = Defaults();
        return defaults with
        {
            TlsVerify = tls,
            Credentials = p.GetValue(Creds) is { } c ? RegistryCredentials.Parse(c.Contains(':') ? c : c + ":" + RemoteCommands.Prompt("Password: ", echo: false)) : null,
            AuthFiles = p.GetValue(AuthFilePath) is { } file ? AuthFiles.Single(file) : defaults.AuthFiles,
        };
    }

    /// <summary>Test and operator knobs: retries, backoff, stall timeout and upload chunk size.</summary>
    private static RegistryOptions Tuned(RegistryOptions o) => o with
    {
        Retries = EnvInt("STRATA_REGISTRY_RETRIES") ?? o.Retries,
        RetryDelay = EnvInt("STRATA_REGISTRY_RETRY_DELAY_MS") is { } ms ? TimeSpan.FromMilliseconds(ms) : o.RetryDelay,
        StallTimeout = EnvInt("STRATA_REGISTRY_STALL_TIMEOUT") is { } s ? TimeSpan.FromSeconds(s) : o.StallTimeout,
        ChunkSize = EnvInt("STRATA_REGISTRY_CHUNK_SIZE") is > 0 and var c ? c : o.ChunkSize,
    };

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v >= 0 ? v : null;

    public static Command Pull()
    {
        var reference = new Argument<string>("REFERENCE") { Description = "registry/repository[:tag|@digest]" };
        var platform = new Option<string?>("--platform") { Description = "os/arch[/variant] to pick from an index (default: this machine's)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the image ID" };
        var cmd = new Command("pull", "Pull an image from a registry") { reference, platform, quiet, TlsVerify, Creds, AuthFilePath };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var want = p.GetValue(platform) is { } pl ? PlatformMatcher.Parse(pl) : null;
            using var display = p.GetValue(quiet) ? null : new TransferDisplay();
            var result = await engine.PullAsync(p.GetValue(reference)!, want, display, ct);
            display?.Dispose();
            Console.WriteLine(result.ImageId.Encoded);
            return 0;
        }, Options));
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
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var f = p.GetValue(format) switch { "oci" => ManifestFormat.Oci, "v2s2" => ManifestFormat.DockerV2S2, _ => ManifestFormat.Keep };
            using var display = p.GetValue(quiet) ? null : new TransferDisplay();
            var result = await engine.PushAsync(p.GetValue(image)!, p.GetValue(destination), f, display, ct);
            display?.Dispose();
            if (p.GetValue(digestFile) is { } path) await File.WriteAllTextAsync(path, result.ManifestDigest.ToString(), ct);
            return 0;
        }, Options));
        return cmd;
    }
}
