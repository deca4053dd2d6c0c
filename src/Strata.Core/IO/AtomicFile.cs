using System.Security.Cryptography;
using Strata.Errors;

namespace Strata.IO;

/// <summary>
/// An output file (save, export -o) that is never seen half-written: written beside its name as .NAME.RANDOM.tmp,
/// locked while written (<see cref="OwnerLock"/>), fsynced and renamed over the name. What a killed run left beside
/// the name is removed by the next write to it. A name that is there and not a regular file (/dev/null, a pipe, a link) is written in place.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string output, Action<Stream> write)
    {
        var path = Path.GetFullPath(output);
        if (Path.Exists(path) && !IsRegular(path))
        {
            using var device = Native.UnlockedFile.Create(path); // O_TRUNC means nothing to a device or a pipe
            write(device);
            return;
        }
        var dir = Path.GetDirectoryName(path)!;
        var prefix = "." + Path.GetFileName(path) + ".";
        RemoveAbandoned(dir, prefix);
        FileStream? file;
        string temp;
        do
        {
            temp = Path.Combine(dir, prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + ".tmp");
            file = OwnerLock.CreateFile(temp);
        }
        while (file is null);
        try
        {
            using (file)
            {
                write(file);
                file.Flush(flushToDisk: true);
                File.Move(temp, path, overwrite: true); // renamed while locked: a sweeper never takes a finished file
            }
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// A new directory (save --format oci-dir) that appears whole or not at all: filled as .NAME.RANDOM.tmp beside its
    /// name, held meanwhile, and renamed into place; what a killed run left beside the name goes with the next run.
    /// </summary>
    public static void WriteDirectory(string output, Action<string> fill)
    {
        var path = Path.GetFullPath(output);
        var dir = Path.GetDirectoryName(path)!;
        var prefix = "." + Path.GetFileName(path) + ".";
        RemoveAbandoned(dir, prefix);
        Microsoft.Win32.SafeHandles.SafeFileHandle? held;
        string temp;
        do
        {
            temp = Path.Combine(dir, prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + ".tmp");
            held = OwnerLock.CreateDirectory(temp);
        }
        while (held is null);
        using (held)
        {
            try
            {
                fill(temp);
                Directory.Move(temp, path);
            }
            finally
            {
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            }
        }
    }

    private static bool IsRegular(string path) => Native.Libc.TryLstatAt(Native.Libc.AT_FDCWD, path, out var st) && st.IsRegular;

    /// <summary>Temp files and directories of this name whose writer is gone (killed): the user never sees them, so they must not stay.</summary>
    private static void RemoveAbandoned(string dir, string prefix)
    {
        foreach (var f in Directory.EnumerateFileSystemEntries(dir))
        {
            var name = Path.GetFileName(f);
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(".tmp", StringComparison.Ordinal)) continue;
            try { OwnerLock.TryRemoveAbandoned(f); }
            catch (Exception e) when (e is IOException or StrataException or UnauthorizedAccessException) { }
        }
    }
}
