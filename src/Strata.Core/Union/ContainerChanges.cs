using Strata.Archive;
using Strata.Archive.Changes;
using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.Union;

/// <summary>One line of `diff`: A(dded), C(hanged) or D(eleted), as docker prints them.</summary>
public sealed record Change(char Kind, string Path);

public static class ContainerChanges
{
    /// <summary>The writable layer alone says what changed: work proportional to the change, not to the image.</summary>
    public static IReadOnlyList<Change> Of(Container container, IReadOnlyList<string> lowersTopFirst)
    {
        var changes = new List<Change>();
        foreach (var entry in OverlayUpperDiffer.Diff(container.UpperDir, lowersTopFirst))
        {
            var (dir, name) = LayerPaths.Split(entry.Name);
            if (name == LayerPaths.OpaqueMarker) continue;
            if (name.StartsWith(LayerPaths.WhiteoutPrefix, StringComparison.Ordinal))
            {
                changes.Add(new Change('D', "/" + LayerPaths.Join(dir, name[LayerPaths.WhiteoutPrefix.Length..])));
                continue;
            }
            changes.Add(new Change(InLowers(entry.Name, lowersTopFirst) ? 'C' : 'A', "/" + entry.Name));
        }
        changes.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return changes;
    }

    /// <summary>Whether the merged view of the lower layers has the path (whiteouts and opaque directories hide).</summary>
    private static bool InLowers(string path, IReadOnlyList<string> lowersTopFirst)
    {
        foreach (var lower in lowersTopFirst)
        {
            if (TryLstatAt(AT_FDCWD, Path.Combine(lower, path), out var st))
                return !(st.Type == S_IFCHR && st.RdevMajor == 0 && st.RdevMinor == 0);
            foreach (var ancestor in LayerPaths.Ancestors(path))
            {
                if (ListXattrs(Path.Combine(lower, ancestor)).TryGetValue(LayerApplication.OpaqueXattr, out var v) && v is [(byte)'y', ..])
                    return false;
            }
        }
        return false;
    }
}
