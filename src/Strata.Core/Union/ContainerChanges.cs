using Strata.Archive;
using Strata.Archive.Changes;

namespace Strata.Union;

/// <summary>One line of `diff`: A(dded), C(hanged) or D(eleted), as docker prints them.</summary>
public sealed record Change(char Kind, string Path);

internal static class ContainerChanges
{
    /// <summary>The writable layer alone says what changed: work proportional to the change, not to the image.</summary>
    public static IReadOnlyList<Change> Of(string upperDir, IReadOnlyList<string> lowersTopFirst, bool rootless = false)
    {
        var changes = new List<Change>();
        var lower = new UnionView(lowersTopFirst, rootless);
        foreach (var entry in OverlayUpperDiffer.Diff(upperDir, lowersTopFirst, rootless))
        {
            var (dir, name) = LayerPaths.Split(entry.Name);
            if (name == OverlayFormat.OpaqueMarker) continue;
            if (OverlayFormat.IsWhiteoutName(name))
            {
                changes.Add(new Change('D', "/" + LayerPaths.Join(dir, OverlayFormat.Hidden(name))));
                continue;
            }
            changes.Add(new Change(lower.Lookup(entry.Name) is not null ? 'C' : 'A', "/" + entry.Name));
        }
        changes.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return changes;
    }


    /// <summary>vfs: the container's tree against the image's, by walking both.</summary>
    public static IReadOnlyList<Change> OfTrees(IReadOnlyList<string> lowerTopFirst, string tree)
    {
        var changes = new List<Change>();
        var lower = new UnionView(lowerTopFirst);
        var entries = lowerTopFirst.Count == 0 ? DirectoryDiffer.Diff(null, tree) : DirectoryDiffer.Diff(lowerTopFirst[0], tree);
        foreach (var entry in entries)
        {
            var (dir, name) = LayerPaths.Split(entry.Name);
            if (OverlayFormat.IsWhiteoutName(name))
                changes.Add(new Change('D', "/" + LayerPaths.Join(dir, OverlayFormat.Hidden(name))));
            else
                changes.Add(new Change(lowerTopFirst.Count > 0 && lower.Lookup(entry.Name) is not null ? 'C' : 'A', "/" + entry.Name));
        }
        changes.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return changes;
    }
}
