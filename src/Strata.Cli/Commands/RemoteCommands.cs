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
        return JsonOutput.Write(w =>
        {
            if (rows.Count > 1) w.WriteStartArray();
            foreach (var row in rows) InspectJson(w, row);
            if (rows.Count > 1) w.WriteEndArray();
        });
    }

    private static void InspectJson(Utf8JsonWriter w, Engine.RemoteImageInfo image)
    {
        using var doc = JsonDocument.Parse(image.RawConfig);
        var config = doc.RootElement;
        var inner = config.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        w.WriteStartObject();
        w.WriteString("Name", image.Reference.Name);
        w.WriteString("Digest", image.Digest.ToString());
        w.WriteStrings("RepoTags", image.Tags);
        Copy(w, "Created", config, "created");
        w.WriteString("DockerVersion", config.TryGetProperty("docker_version", out var dv) ? dv.GetString() : "");
        Copy(w, "Labels", inner, "Labels");
        Copy(w, "Architecture", config, "architecture");
        if (config.TryGetProperty("variant", out _)) Copy(w, "Variant", config, "variant");
        Copy(w, "Os", config, "os");
        w.WriteStrings("Layers", image.Manifest.Layers.Select(l => l.Digest.ToString()));
        w.WriteStartArray("LayersData");
        foreach (var l in image.Manifest.Layers)
        {
            w.WriteStartObject();
            w.WriteString("MIMEType", l.MediaType);
            w.WriteString("Digest", l.Digest.ToString());
            w.WriteNumber("Size", l.Size);
            w.WritePropertyName("Annotations");
            if (l.Annotations is null) w.WriteNullValue();
            else { w.WriteStartObject(); foreach (var (k, v) in l.Annotations) w.WriteString(k, v); w.WriteEndObject(); }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Copy(w, "Env", inner, "Env");
        w.WriteEndObject();
    }

    /// <summary>A config field as it is, or null when absent (as skopeo prints it).</summary>
    private static void Copy(Utf8JsonWriter w, string name, JsonElement from, string field)
    {
        w.WritePropertyName(name);
        if (from.ValueKind == JsonValueKind.Object && from.TryGetProperty(field, out var v)) v.WriteTo(w);
        else w.WriteNullValue();
    }

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
