using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.Archive;

/// <summary>One visible object of a union: where it lives (its topmost copy, in layer <paramref name="Layer"/>, top first) and that copy's lstat.</summary>
internal sealed record UnionEntry(string Path, string Source, Statx Stat, int Layer);

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

    private readonly LayerStack _stack = new([.. layersTopFirst], whiteoutFiles: false);

    public UnionEntry? Lookup(string path)
    {
        path = LayerPaths.CleanInRoot(path);
        return _stack.Resolve(path) is { } found ? new UnionEntry(path, found.Full, Present(found.Full, found.Stat), found.Layer) : null;
    }

    /// <summary>The visible names in a directory, sorted; null when the path is not a directory of the union.</summary>
    public IReadOnlyList<string>? List(string dir)
    {
        var seen = _stack.List(LayerPaths.CleanInRoot(dir), static (string _, in Statx _) => true);
        if (seen is null) return null;
        var names = seen.Where(kv => kv.Value is not null).Select(kv => kv.Key).ToList();
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

    private Statx Present(string full, Statx st) => rootless ? RootlessForm.Present(full, st) : st;
}
