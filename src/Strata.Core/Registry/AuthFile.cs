using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Strata.Errors;

namespace Strata.Registry;

/// <summary>
/// Where credentials are read (the first file that names the registry wins) and where login writes them.
/// </summary>
public sealed record AuthFiles(IReadOnlyList<string> Read, string Write)
{
    /// <summary>One file, as --authfile gives it.</summary>
    public static AuthFiles Single(string path) => new([path], path);

    /// <summary>
    /// podman's search: $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json (without it
    /// /run/containers/UID/auth.json), ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json, then
    /// ${DOCKER_CONFIG:-~/.docker}/config.json; login writes the first of them. The caller supplies the environment.
    /// </summary>
    public static AuthFiles Podman(Func<string, string?> environment, string home)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Env(string name) => environment(name) is { Length: > 0 } v ? v : null;
        var runtime = Env("XDG_RUNTIME_DIR") is { } r
            ? Path.Combine(r, "containers", "auth.json")
            : Path.Combine("/run/containers", Native.Libc.GetEuid().ToString(System.Globalization.CultureInfo.InvariantCulture), "auth.json");
        var read = new List<string>();
        if (Env("REGISTRY_AUTH_FILE") is { } explicitFile) read.Add(explicitFile);
        read.Add(runtime);
        read.Add(Path.Combine(Env("XDG_CONFIG_HOME") ?? Path.Combine(home, ".config"), "containers", "auth.json"));
        read.Add(Path.Combine(Env("DOCKER_CONFIG") ?? Path.Combine(home, ".docker"), "config.json"));
        return new AuthFiles(read, read[0]);
    }
}

/// <summary>
/// Credentials in the docker config.json / containers auth.json format: {"auths": {"HOST": {"auth": base64(USER:PASS)}}}.
/// </summary>
internal static class AuthFile
{
    public static RegistryCredentials? Find(string registry, AuthFiles? files)
    {
        foreach (var path in files?.Read ?? [])
        {
            if (!File.Exists(path)) continue;
            if (Auths(Read(path)) is not { } auths) continue;
            foreach (var (key, value) in auths)
            {
                if (RegistryHost.Normalize(key) != registry || value?["auth"]?.GetValue<string>() is not { Length: > 0 } auth) continue;
                string decoded;
                try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth)); }
                catch (FormatException) { throw StrataException.Invalid($"{path}: the entry for {key} is not base64"); }
                return RegistryCredentials.Parse(decoded);
            }
        }
        return null;
    }

    public static string Store(string registry, RegistryCredentials credentials, AuthFiles files)
    {
        var path = files.Write;
        var root = File.Exists(path) ? Read(path) : new JsonObject();
        if (Auths(root) is not { } auths) root["auths"] = auths = new JsonObject();
        foreach (var key in auths.Select(kv => kv.Key).Where(k => RegistryHost.Normalize(k) == registry).ToList()) auths.Remove(key);
        auths[registry] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}")) };
        Write(path, root);
        return path;
    }

    /// <summary>Removes the registry's entry (every registry's with null); false when there was none.</summary>
    public static bool Remove(string? registry, AuthFiles files)
    {
        var path = files.Write;
        if (!File.Exists(path)) return false;
        var root = Read(path);
        if (Auths(root) is not { } auths) return false;
        var keys = auths.Select(kv => kv.Key).Where(k => registry is null || RegistryHost.Normalize(k) == registry).ToList();
        foreach (var key in keys) auths.Remove(key);
        if (keys.Count > 0) Write(path, root);
        return keys.Count > 0;
    }

    private static JsonObject? Auths(JsonObject root) => root["auths"] as JsonObject;

    private static JsonObject Read(string path)
    {
        try
        {
            return JsonNode.Parse(Native.UnlockedFile.ReadAllBytes(path)) as JsonObject ?? throw StrataException.Invalid($"{path}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw StrataException.Invalid($"{path}: invalid JSON: {e.Message}");
        }
    }

    /// <summary>Atomically, readable by the owner only: the file holds passwords.</summary>
    private static void Write(string path, JsonObject root)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        using (var f = Native.UnlockedFile.Create(tmp, mode: 0x180 /* 0600 */))
        {
            using var w = new Utf8JsonWriter(f, new JsonWriterOptions { Indented = true });
            root.WriteTo(w);
        }
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>A registry as references and auth files name it.</summary>
public static class RegistryHost
{
    /// <summary>"https://index.docker.io/v1/", "host/" and "http://host/path" name the same registry as "docker.io" and "host".</summary>
    public static string Normalize(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var k = value;
        if (k.StartsWith("https://", StringComparison.Ordinal)) k = k[8..];
        else if (k.StartsWith("http://", StringComparison.Ordinal)) k = k[7..];
        int slash = k.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0) k = k[..slash];
        return k is "index.docker.io" or "registry-1.docker.io" ? "docker.io" : k;
    }
}
