namespace Strata.Snapshots;

/// <summary>du of a tree: allocated bytes of its files (links and whiteout devices cost nothing) and its inodes.</summary>
internal static class TreeUsage
{
    public static (long Bytes, long Inodes) Of(string dir)
    {
        if (!Directory.Exists(dir)) return (0, 0);
        long bytes = 0, inodes = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
        foreach (var f in new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options))
        {
            inodes++;
            if (f is FileInfo file && file.LinkTarget is null) bytes += file.Length;
        }
        return (bytes, inodes);
    }
}
