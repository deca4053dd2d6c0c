using Strata.Archive.Changes;
using Strata.Archive.Tar;

namespace Strata.Archive;

/// <summary>The flattened merged view of a layer stack as tar entries, read through <see cref="UnionView"/> (no mount).</summary>
internal static class UnionExport
{
    /// <param name="view">The stack.</param>
    /// <param name="check">Told of each entry before it is handed on, with the node it was read from: may refuse it, or
    /// wrap its data to verify the bytes as they are read.</param>
    public static IEnumerable<TarEntry> Entries(UnionView view, Action<UnionEntry, FileNode, TarEntry>? check = null) => HardLinkTracker.Emit(Nodes(view, check));

    private static IEnumerable<(FileNode?, TarEntry)> Nodes(UnionView view, Action<UnionEntry, FileNode, TarEntry>? check)
    {
        foreach (var e in view.Walk())
        {
            var node = FileNode.TryRead(e.Source, view.Rootless);
            var entry = node?.ToEntry(e.Path, DirectoryDiffer.KeepXattr);
            if (node is null || entry is null) continue;
            check?.Invoke(e, node, entry);
            yield return (node, entry);
        }
    }
}
