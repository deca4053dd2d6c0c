using Strata.Archive.Changes;
using Strata.Archive.Tar;

namespace Strata.Union;

/// <summary>The flattened merged view of a layer stack as tar entries, read through <see cref="UnionView"/> (no mount).</summary>
internal static class UnionExport
{
    public static IEnumerable<TarEntry> Entries(UnionView view)
    {
        var links = new HardLinkTracker();
        foreach (var e in view.Walk())
        {
            var node = FileNode.TryRead(e.Source);
            var entry = node?.ToEntry(e.Path, DirectoryDiffer.KeepXattr);
            if (node is null || entry is null) continue;
            links.Apply(node, entry);
            yield return entry;
            entry.Data?.Dispose();
        }
    }
}
