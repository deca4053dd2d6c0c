using Strata.Archive.Tar;

namespace Strata.Archive.Changes;

/// <summary>Turns the second and later names of one inode into hard-link entries to the first.</summary>
internal sealed class HardLinkTracker
{
    private readonly Dictionary<(uint, uint, ulong), string> _first = [];

    /// <summary>
    /// The entries of a walk with hard links found in emission order; each entry's data is closed once the
    /// consumer moved on, so a walk holds one file open at a time.
    /// </summary>
    public static IEnumerable<TarEntry> Emit(IEnumerable<(FileNode? Node, TarEntry Entry)> items)
    {
        var links = new HardLinkTracker();
        foreach (var (node, entry) in items)
        {
            if (node is not null) links.Apply(node, entry);
            yield return entry;
            entry.Data?.Dispose();
        }
    }

    public void Apply(FileNode node, TarEntry entry)
    {
        if (node.IsDirectory || node.Stat.Nlink < 2) return;
        var key = (node.Stat.DevMajor, node.Stat.DevMinor, node.Stat.Ino);
        if (_first.TryGetValue(key, out var first))
        {
            entry.Type = TarEntryType.HardLink;
            entry.LinkName = first;
            entry.Size = 0;
            entry.Data = null;
            entry.Xattrs.Clear();
            return;
        }
        _first[key] = entry.Name;
    }
}
