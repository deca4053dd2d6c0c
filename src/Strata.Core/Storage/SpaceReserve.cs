namespace Strata.Storage;

/// <summary>
/// A file of real blocks (root/reserve) kept so the store can always free space: with the disk full, SQLite cannot
/// even open its WAL index, so rmi, prune and rm delete this file first when space is low, do their work, and
/// the next writer makes it again once there is room (as discussed for podman's database in its issue 13967).
/// </summary>
internal static class SpaceReserve
{
    public const long Size = 1 << 20;

    // Below this the reserve is given up before a verb that frees space: its transaction, the WAL and its index fit.
    private const long Low = 4 * Size;

    private static string PathOf(string root) => Path.Combine(root, "reserve");

    /// <summary>Makes the reserve when it is missing and there is ample room; quietly does nothing otherwise.</summary>
    public static void Ensure(string root)
    {
        var path = PathOf(root);
        // Not on a nearly full disk: it would take the last of the space, and a verb freeing space would have just dropped it.
        if (File.Exists(path) || Native.Libc.StatVfs(root, out var v) != 0 || (long)(v.Bavail * v.Frsize) < Low + Size) return;
        // One fixed name, made exclusively: a second writer leaves it to the first, and one a killed writer left
        // (a minute old) is removed so the next can try.
        var temp = path + ".tmp";
        if (File.Exists(temp))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(temp) > TimeSpan.FromMinutes(1))
                try { File.Delete(temp); } catch (IOException) { }
            return;
        }
        try
        {
            // Written, not sparse: only blocks really allocated can be handed back later.
            using (var f = Native.UnlockedFile.Create(temp, createNew: true, bufferSize: 1))
            {
                var zeros = new byte[64 << 10];
                for (long n = 0; n < Size; n += zeros.Length) f.Write(zeros);
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException e) when (e.GetType() == typeof(IOException) && e.HResult == Native.Errno.EEXIST)
        {
            // Another writer is making it.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Whether a verb freeing space must write the database without its WAL: too little is free for the WAL and its
    /// index even after the reserve went (a store made before the reserve, or whose reserve a full disk used up).
    /// </summary>
    public static bool TooFullForWal(string root) =>
        Native.Libc.StatVfs(root, out var v) == 0 && (long)(v.Bavail * v.Frsize) < Size / 2;

    /// <summary>Deletes the reserve when the store's file system is nearly full; returns whether it did.</summary>
    public static bool ReleaseIfLow(string root)
    {
        var path = PathOf(root);
        if (!File.Exists(path) || Native.Libc.StatVfs(root, out var v) != 0) return false;
        if ((long)(v.Bavail * v.Frsize) >= Low) return false;
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
