using Strata.Archive;
using Strata.Archive.Changes;

namespace Strata.Snapshots;

/// <summary>A faithful copy of a tree (owners, modes, ns times, xattrs, hard links, devices) by walk and apply.</summary>
internal static class TreeCopy
{
    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        LayerApplier.Apply(to, DirectoryDiffer.Diff(null, from));
    }
}
