using Strata.Archive;
using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.Union;

/// <summary>One visible object of a union: where it lives (its topmost copy) and that copy's lstat.</summary>
internal sealed record UnionEntry(string Path, string Source, Statx Stat);

/// <summary>
/// The merged view of a layer stack without mounting anything, by overlayfs's rules: the topmost copy wins,
/// directories merge, char 0/0 whiteouts hide, an opaque directory hides everything below it, and a
/// directory's attributes come from its topmost copy. Layers are directories in overlay form, top first
/// (a container's upper directory first).
/// </summary>
/// <param name="rootless">The layers are in <see cref="RootlessForm"/>: stats are shown as it keeps them.</param>
internal sealed class UnionView(IReadOnlyList<string> layersTopFirst, bool rootless = false)
{
    public bool Rootless => rootless;

    private readonly Dictionary<string, List<string>?> _contributors = new(StringComparer.Ordinal);

    public UnionEntry? Lookup(string path)
    {
        path = LayerPaths.CleanInRoot(path);
        if (path.Length == 0) return new UnionEntry("", layersTopFirst[0], Present(layersTopFirst[0], StatOf(layersTopFirst[0])));
        var (dir, name) = LayerPaths.Split(path);
        var layers = Contributors(dir);
        if (layers is null) return null;
        foreach (var layer in layers)
        {
            var full = Path.Combine(layer, path);
            if (!TryLstatAt(AT_FDCWD, full, out var st)) continue;
            return OverlayFormat.IsWhiteout(st) ? null : new UnionEntry(path, full, Present(full, st));
        }
        return null;
    }

    /// <summary>The visible names in a directory, sorted; null when the path is not a directory of the union.</summary>
    public IReadOnlyList<string>? List(string dir)
    {
        dir = LayerPaths.CleanInRoot(dir);
        var layers = Contributors(dir);
        if (layers is null) return null;
        var seen = new Dictionary<string, bool>(StringComparer.Ordinal); // name -> visible
        foreach (var layer in layers)
        {
            var full = dir.Length == 0 ? layer : Path.Combine(layer, dir);
            foreach (var entry in Directory.EnumerateFileSystemEntries(full))
            {
                var name = Path.GetFileName(entry);
                if (seen.ContainsKey(name)) continue;
                seen[name] = TryLstatAt(AT_FDCWD, entry, out var st) && !OverlayFormat.IsWhiteout(st);
            }
        }
        var names = seen.Where(kv => kv.Value).Select(kv => kv.Key).ToList();
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Every visible entry, parents before children, in path order.</summary>
    public IEnumerable<UnionEntry> Walk(string dir = "")
    {
        foreach (var name in List(dir) ?? [])
        {
            var path = LayerPaths.Join(dir, name);
            var entry = Lookup(path);
            if (entry is null) continue;
            yield return entry;
            if (entry.Stat.IsDirectory)
                foreach (var child in Walk(path)) yield return child;
        }
    }

    /// <summary>The layers whose copy of a directory takes part in the merge, top first; null if not a directory.</summary>
    private List<string>? Contributors(string dir)
    {
        if (_contributors.TryGetValue(dir, out var cached)) return cached;
        List<string>? result;
        if (dir.Length == 0)
        {
            // The kernel ignores the opaque flag on a layer's root: every layer takes part.
            result = [.. layersTopFirst];
        }
        else
        {
            var (parent, _) = LayerPaths.Split(dir);
            var above = Contributors(parent);
            result = above is null ? null : [];
            foreach (var layer in above ?? [])
            {
                var full = Path.Combine(layer, dir);
                if (!TryLstatAt(AT_FDCWD, full, out var st)) continue;
                if (!st.IsDirectory) break; // a whiteout or a non-directory ends the merge here
                result!.Add(full[..^(dir.Length + 1)]);
                if (OverlayFormat.IsOpaque(full)) break;
            }
            if (result is { Count: 0 }) result = null;
        }
        _contributors[dir] = result;
        return result;
    }

    private Statx Present(string full, Statx st) => rootless ? RootlessForm.Present(full, st) : st;

    private static Statx StatOf(string path) =>
        TryLstatAt(AT_FDCWD, path, out var st) ? st : throw new ErrnoException(Errno.ENOENT, "stat", path);
}
