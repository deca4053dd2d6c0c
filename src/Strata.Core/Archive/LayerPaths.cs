using Strata.Errors;

namespace Strata.Archive;

/// <summary>Entry names made root-relative and clean; a name that climbs above the root is refused.</summary>
internal static class LayerPaths
{
    /// <summary>"./a//b/../c" -> "a/c"; "" is the root itself.</summary>
    public static string Clean(string name, string what)
    {
        var parts = new List<string>();
        foreach (var p in name.Split('/'))
        {
            if (p is "" or ".") continue;
            if (p == "..")
            {
                if (parts.Count == 0) throw StrataException.Invalid($"layer entry \"{Trim(what)}\": path escapes the root");
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(p);
        }
        return string.Join('/', parts);
    }

    /// <summary>Chroot semantics for a symlink target: ".." at the root stays at the root.</summary>
    public static string CleanInRoot(string path)
    {
        var parts = new List<string>();
        foreach (var p in path.Split('/'))
        {
            if (p is "" or ".") continue;
            if (p == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(p);
        }
        return string.Join('/', parts);
    }

    public static (string Dir, string Base) Split(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? ("", path) : (path[..slash], path[(slash + 1)..]);
    }

    public static string Join(string dir, string name) => dir.Length == 0 ? name : dir + "/" + name;

    public static IEnumerable<string> Ancestors(string path)
    {
        for (int i = path.IndexOf('/'); i >= 0; i = path.IndexOf('/', i + 1)) yield return path[..i];
    }

    public static string Trim(string s) => s.Length > 200 ? s[..200] + "..." : s;
}
