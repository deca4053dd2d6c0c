using Strata.Archive;
using Strata.Archive.Changes;

namespace Strata.Snapshots;

/// <summary>A faithful copy of a tree (owners, modes, ns times, xattrs, hard links, devices) by walk and apply.</summary>
internal static class TreeCopy
{
    /// <param name="from">The tree to copy.</param>
    /// <param name="to">Where (made if missing).</param>
    /// <param name="check">Told of each entry as it is read (see <see cref="DirectoryDiffer.Diff"/>).</param>
    public static void Copy(string from, string to, Action<string, FileNode, Archive.Tar.TarEntry>? check = null)
    {
        Directory.CreateDirectory(to);
        LayerApplier.Apply(to, DirectoryDiffer.Diff(null, from, check));
    }
}
