using Strata.Archive.Tar;

namespace Strata.Archive.Changes;

/// <summary>Turns the second and later names of one inode into hard-link entries to the first.</summary>
internal sealed class HardLinkTracker
{
    private readonly Dictionary<(uint, uint, ulong), string> _first = [];

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
