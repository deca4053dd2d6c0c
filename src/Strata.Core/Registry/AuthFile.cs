using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Strata.Errors;

namespace Strata.Registry;

/// <summary>
/// Credentials in the docker config.json / containers auth.json format: {"auths": {"HOST": {"auth": base64(USER:PASS)}}}.
/// Read from --authfile, $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json (root without it:
/// /run/containers/0/auth.json), ~/.config/containers/auth.json, ~/.docker/config.json, the first that names
/// the registry; written where podman writes (the first of those three that applies).
/// </summary>
public static class AuthFile
{
    public static IEnumerable<string> ReadPaths(string? explicitPath)
    {
        if (explicitPath is not null) { yield return explicitPath; yield break; }
        if (Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE") is { Length: > 0 } env) yield return env;
        yield return RuntimePath();
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".config");
        yield return Path.Combine(config, "containers", "auth.json");
        yield return Path.Combine(Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } d ? d : Path.Combine(home, ".docker"), "config.json");
    }

    public static string WritePath(string? explicitPath) =>
        explicitPath ?? (Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE") is { Length: > 0 } env ? env : RuntimePath());

    private static string RuntimePath()
    {
        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(runtime)
            ? Path.Combine("/run/containers", Native.Libc.GetEuid().ToString(System.Globalization.CultureInfo.InvariantCulture), "auth.json")
            : Path.Combine(runtime, "containers", "auth.json");
    }

    public static RegistryCredentials? Find(string registry, string? explicitPath)
    {
        foreach (var path in ReadPaths(explicitPath))
        {
            if (!File.Exists(path)) continue;
            if (Auths(Read(path)) is not { } auths) continue;
            foreach (var (key, value) in auths)
            {
                if (NormalizeKey(key) != registry || value?["auth"]?.GetValue<string>() is not { Length: > 0 } auth) continue;
                string decoded;
                try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth)); }
                catch (FormatException) { throw StrataException.Invalid($"{path}: the entry for {key} is not base64"); }
                return RegistryCredentials.Parse(decoded);
            }
        }
        return null;
    }

    public static string Store(string registry, RegistryCredentials credentials, string? explicitPath)
    {
        var path = WritePath(explicitPath);
        var root = File.Exists(path) ? Read(path) : new JsonObject();
        if (Auths(root) is not { } auths) root["auths"] = auths = new JsonObject();
        foreach (var key in auths.Select(kv => kv.Key).Where(k => NormalizeKey(k) == registry).ToList()) auths.Remove(key);
        auths[registry] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}")) };
        Write(path, root);
        return path;
    }

    /// <summary>Removes the registry's entry (every registry's with null); false when there was none.</summary>
    public static bool Remove(string? registry, string? explicitPath)
    {
        var path = WritePath(explicitPath);
        if (!File.Exists(path)) return false;
        var root = Read(path);
        if (Auths(root) is not { } auths) return false;
        var keys = auths.Select(kv => kv.Key).Where(k => registry is null || NormalizeKey(k) == registry).ToList();
        foreach (var key in keys) auths.Remove(key);
        if (keys.Count > 0) Write(path, root);
        return keys.Count > 0;
    }

    /// <summary>"https://index.docker.io/v1/" and "host/" name the same registry as "docker.io" and "host".</summary>
    private static string NormalizeKey(string key)
    {
        var k = key;
        if (k.StartsWith("https://", StringComparison.Ordinal)) k = k[8..];
        else if (k.StartsWith("http://", StringComparison.Ordinal)) k = k[7..];
        int slash = k.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0) k = k[..slash];
        return k is "index.docker.io" or "registry-1.docker.io" ? "docker.io" : k;
    }

    private static JsonObject? Auths(JsonObject root) => root["auths"] as JsonObject;

    private static JsonObject Read(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject ?? throw StrataException.Invalid($"{path}: not a JSON object");
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
        using (var f = new FileStream(tmp, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
            using var w = new Utf8JsonWriter(f, new JsonWriterOptions { Indented = true });
            root.WriteTo(w);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
