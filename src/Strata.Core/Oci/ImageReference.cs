using Strata.Errors;

namespace Strata.Oci;

/// <summary>
/// An image reference parsed the way docker does: [registry/]repository[:tag][@digest], with docker.io and
/// library/ as defaults and "latest" when neither tag nor digest is given.
/// </summary>
/// <param name="Registry">The registry host[:port].</param>
/// <param name="Repository">The repository path (library/ added for docker.io names without a slash).</param>
/// <param name="Tag">The tag, or null when only a digest is given.</param>
/// <param name="Digest">The manifest digest, when given.</param>
public sealed record ImageReference(string Registry, string Repository, string? Tag, Digest? Digest)
{
    /// <summary>The registry of a reference that names none.</summary>
    public const string DefaultRegistry = "docker.io";
    /// <summary>The tag of a reference that names neither tag nor digest.</summary>
    public const string DefaultTag = "latest";

    /// <summary>registry/repository, e.g. docker.io/library/busybox.</summary>
    public string Name => $"{Registry}/{Repository}";

    /// <summary>The full form: registry/repository[:tag][@digest].</summary>
    public override string ToString() =>
        Name + (Tag is null ? "" : ":" + Tag) + (Digest is { } d ? "@" + d : "");

    /// <summary>Parses a reference, or throws <see cref="ErrorKind.InvalidArgument"/>.</summary>
    public static ImageReference Parse(string value) =>
        TryParse(value, out var r, out var why) ? r : throw StrataException.BadArgument($"invalid image reference \"{value}\": {why}");

    /// <summary>Parses a reference; false when it is not one.</summary>
    public static bool TryParse(string value, out ImageReference reference) => TryParse(value, out reference, out _);

    /// <summary>Parses a reference; false when it is not one, with the reason.</summary>
    public static bool TryParse(string value, out ImageReference reference, out string why)
    {
        reference = null!;
        if (string.IsNullOrEmpty(value) || value.Length > 4096) { why = "empty or too long"; return false; }

        Digest? digest = null;
        int at = value.IndexOf('@', StringComparison.Ordinal);
        string rest = value;
        if (at >= 0)
        {
            if (!Oci.Digest.TryParse(value[(at + 1)..], out var d, out var dwhy)) { why = "bad digest: " + dwhy; return false; }
            digest = d;
            rest = value[..at];
        }

        string? tag = null;
        int lastSlash = rest.LastIndexOf('/');
        int colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!IsValidTag(tag)) { why = $"bad tag \"{tag}\""; return false; }
        }

        string registry = DefaultRegistry;
        string path = rest;
        int firstSlash = rest.IndexOf('/');
        if (firstSlash > 0)
        {
            var first = rest[..firstSlash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsAsciiLetterUpper))
            {
                registry = first;
                path = rest[(firstSlash + 1)..];
            }
        }
        if (registry == "index.docker.io") registry = DefaultRegistry;
        if (registry == DefaultRegistry && !path.Contains('/')) path = "library/" + path;
        if (!IsValidRepository(path)) { why = $"bad repository name \"{path}\" (lowercase letters, digits and separators)"; return false; }
        if (!IsValidRegistry(registry)) { why = $"bad registry \"{registry}\""; return false; }
        if (tag is null && digest is null) tag = DefaultTag;
        if (registry.Length + 1 + path.Length > 255) { why = "name longer than 255 characters"; return false; }

        reference = new ImageReference(registry, path, tag, digest);
        why = "";
        return true;
    }

    // [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
    private static bool IsValidRepository(string path)
    {
        foreach (var component in path.Split('/'))
        {
            if (component.Length == 0) return false;
            if (!char.IsAsciiLetterLower(component[0]) && !char.IsAsciiDigit(component[0])) return false;
            if (!char.IsAsciiLetterLower(component[^1]) && !char.IsAsciiDigit(component[^1])) return false;
            for (int i = 0; i < component.Length; i++)
            {
                char c = component[i];
                if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') continue;
                if (c == '.' && component[i - 1] is not ('.' or '_' or '-')) continue;
                if (c == '_' && (component[i - 1] != '_' || (i >= 2 && component[i - 2] != '_' && component[i - 2] is not ('.' or '-')))) continue;
                return false;
            }
            if (component.Contains("___", StringComparison.Ordinal) || component.Contains("._", StringComparison.Ordinal) || component.Contains("_.", StringComparison.Ordinal)) return false;
        }
        return true;
    }

    private static bool IsValidRegistry(string registry)
    {
        foreach (char c in registry)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']')) return false;
        return registry.Length > 0;
    }

    // [\w][\w.-]{0,127}
    /// <summary>Whether a tag is one the distribution spec allows ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}).</summary>
    public static bool IsValidTag(string tag)
    {
        if (tag.Length is 0 or > 128) return false;
        if (!(char.IsAsciiLetterOrDigit(tag[0]) || tag[0] == '_')) return false;
        foreach (char c in tag)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')) return false;
        return true;
    }
}
