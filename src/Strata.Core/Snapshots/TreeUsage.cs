using System.IO.Enumeration;

namespace Strata.Snapshots;

/// <summary>du of a tree: allocated bytes of its files (links and whiteout devices cost nothing) and its inodes.</summary>
internal static class TreeUsage
{
    public static (long Bytes, long Inodes) Of(string dir)
    {
        if (!Directory.Exists(dir)) return (0, 0);
        long bytes = 0, inodes = 0;
        // A layer's symlinks point anywhere (var/run -> /run): never recurse through one, which would walk the host.
        var entries = new FileSystemEnumerable<long>(dir, (ref FileSystemEntry e) => e.IsDirectory || (e.Attributes & FileAttributes.ReparsePoint) != 0 ? 0 : e.Length,
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
        {
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        foreach (var length in entries)
        {
            inodes++;
            bytes += length;
        }
        return (bytes, inodes);
    }
}
