using Strata.Archive.Changes;
using Strata.Archive.Tar;

namespace Strata.Archive;

/// <summary>The flattened merged view of a layer stack as tar entries, read through <see cref="UnionView"/> (no mount).</summary>
internal static class UnionExport
{
    public static IEnumerable<TarEntry> Entries(UnionView view) => HardLinkTracker.Emit(Nodes(view));

    private static IEnumerable<(FileNode?, TarEntry)> Nodes(UnionView view)
    {
        foreach (var e in view.Walk())
        {
            var node = FileNode.TryRead(e.Source, view.Rootless);
            var entry = node?.ToEntry(e.Path, DirectoryDiffer.KeepXattr);
            if (node is not null && entry is not null) yield return (node, entry);
        }
    }
}
