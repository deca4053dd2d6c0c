namespace Strata.IO;

/// <summary>An output file written whole or not at all (save, export): what fails midway leaves nothing under its name.</summary>
internal static class AtomicFile
{
    /// <summary>Writes to a hidden temporary file beside <paramref name="output"/>, syncs it, and renames it into place.</summary>
    public static void Write(string output, Action<Stream> write)
    {
        if (Native.Libc.TryStat(output, out var st) && !st.IsRegular && !st.IsDirectory)
        {
            // A device or pipe (-o /dev/stdout) cannot be renamed over: written as it is.
            using var direct = new FileStream(output, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
            write(direct);
            return;
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(output))!;
        var temp = Path.Combine(dir, $".{Path.GetFileName(output)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, output, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
