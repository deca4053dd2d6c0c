using System.CommandLine;
using System.Text.Json;
using Strata.Cli.Output;
using Strata.Errors;
using Strata.Oci;
using Strata.Registry;

namespace Strata.Cli.Commands;

/// <summary>Looking at a registry without pulling (inspect --remote, manifest) and keeping credentials (login, logout).</summary>
public static class RemoteCommands
{
    public static Command Login()
    {
        var registry = new Argument<string>("REGISTRY");
        var user = new Option<string?>("--username", "-u") { Description = "User name (prompted for when missing)" };
        var password = new Option<string?>("--password", "-p") { Description = "Password (visible in the process list: prefer --password-stdin)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var cmd = new Command("login", "Log in to a registry: check the credentials and keep them in the auth file")
        {
            registry, user, password, passwordStdin, RegistryCommands.TlsVerify, RegistryCommands.AuthFilePath,
        };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var name = p.GetValue(user) ?? Prompt("Username: ");
            var secret = p.GetValue(passwordStdin) ? (Console.In.ReadLine() ?? "") : p.GetValue(password) ?? Prompt("Password: ", echo: false);
            await engine.LoginAsync(p.GetValue(registry)!, new RegistryCredentials(name, secret), ct);
            Console.WriteLine("Login Succeeded!");
            return 0;
        }, RegistryCommands.Options));
        return cmd;
    }

    public static Command Logout()
    {
        var registry = new Argument<string?>("REGISTRY") { Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all", "-a") { Description = "Remove the credentials of every registry" };
        var cmd = new Command("logout", "Remove a registry's credentials from the auth file") { registry, all, RegistryCommands.AuthFilePath };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            if (p.GetValue(all))
            {
                await engine.LogoutAsync(null, ct);
                Console.WriteLine("Removed login credentials for all registries");
                return 0;
            }
            var host = await engine.LogoutAsync(p.GetValue(registry) ?? throw new StrataException(ErrorKind.InvalidArgument, "logout needs a REGISTRY or --all"), ct);
            Console.WriteLine($"Removed login credentials for {host}");
            return 0;
        }, RegistryCommands.Options));
        return cmd;
    }

    public static Command Manifest()
    {
        var reference = new Argument<string>("REFERENCE");
        var config = new Option<bool>("--config") { Description = "Print the image's config instead (of the platform's image, for an index)" };
        var platform = new Option<string?>("--platform") { Description = "os/arch[/variant] for --config on an index" };
        var cmd = new Command("manifest", "Print a remote image's manifest (or index) exactly as the registry serves it, as skopeo inspect --raw")
        {
            reference, config, platform, RegistryCommands.TlsVerify, RegistryCommands.Creds, RegistryCommands.AuthFilePath,
        };
        cmd.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var raw = p.GetValue(config)
                ? await engine.GetRemoteConfigAsync(p.GetValue(reference)!, p.GetValue(platform) is { } pl ? PlatformMatcher.Parse(pl) : null, ct)
                : await engine.GetRemoteManifestAsync(p.GetValue(reference)!, ct);
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(raw);
            return 0;
        }, RegistryCommands.Options));
        return cmd;
    }

    /// <summary>What skopeo inspect prints: the platform's image, with the digest of the document the reference names.</summary>
    public static async Task<int> InspectRemote(Engine.StrataEngine engine, IReadOnlyList<string> references, string? platform, CancellationToken ct)
    {
        var want = platform is null ? null : PlatformMatcher.Parse(platform);
        var rows = new List<Engine.RemoteImageInfo>();
        foreach (var arg in references) rows.Add(await engine.InspectRemoteAsync(arg, want, ct));
        var shapes = rows.Select(InspectJson).ToList();
        return shapes.Count == 1 ? JsonOutput.Write(shapes[0]) : JsonOutput.Write(shapes);
    }

    private static RemoteInspect InspectJson(Engine.RemoteImageInfo image)
    {
        using var doc = JsonDocument.Parse(image.RawConfig);
        var config = doc.RootElement;
        var inner = config.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        return new RemoteInspect(
            image.Reference.Name, image.Digest.ToString(), image.Tags,
            Field(config, "created"),
            config.TryGetProperty("docker_version", out var dv) ? dv.GetString() : "",
            Field(inner, "Labels"), Field(config, "architecture"),
            config.TryGetProperty("variant", out _) ? Field(config, "variant") : null,
            Field(config, "os"),
            image.Manifest.Layers.Select(l => l.Digest.ToString()).ToList(),
            image.Manifest.Layers.Select(l => new RemoteLayer(l.MediaType, l.Digest.ToString(), l.Size, l.Annotations)).ToList(),
            Field(inner, "Env"));
    }

    /// <summary>A config field as it is; absent, a JSON null (as skopeo prints it).</summary>
    private static JsonElement? Field(JsonElement from, string field) =>
        from.ValueKind == JsonValueKind.Object && from.TryGetProperty(field, out var v) ? v.Clone() : Null;

    private static readonly JsonElement Null = JsonDocument.Parse("null").RootElement.Clone();

    public static string Prompt(string label, bool echo = true)
    {
        if (Console.IsInputRedirected) return Console.In.ReadLine() ?? "";
        Console.Error.Write(label);
        if (echo) return Console.ReadLine() ?? "";
        var s = new System.Text.StringBuilder();
        while (Console.ReadKey(intercept: true) is var k && k.Key != ConsoleKey.Enter)
            if (k.Key == ConsoleKey.Backspace) { if (s.Length > 0) s.Length--; } else s.Append(k.KeyChar);
        Console.Error.WriteLine();
        return s.ToString();
    }
}
