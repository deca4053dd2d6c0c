using System.Text;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.Archive.Changes;

/// <summary>One file-system object read for a layer: its lstat, link target and xattrs, as a tar entry.</summary>
internal sealed class FileNode
{
    private FileNode(string fullPath, Statx raw, bool rootless)
    {
        FullPath = fullPath;
        RawStat = raw;
        Rootless = rootless;
        Stat = rootless ? RootlessForm.Present(fullPath, raw) : raw;
    }

    public string FullPath { get; }

    /// <summary>The stat the layer means (a rootless-form file's override applied).</summary>
    public Statx Stat { get; }

    /// <summary>The stat on disk, for overlay's own markers.</summary>
    public Statx RawStat { get; }

    public bool Rootless { get; }

    public bool IsDirectory => Stat.IsDirectory;

    /// <param name="rootless">Read as <see cref="RootlessForm"/>: owners, modes, devices and foreign xattrs as kept there.</param>
    public static FileNode? TryRead(string fullPath, bool rootless = false) =>
        TryLstatAt(AT_FDCWD, fullPath, out var st) ? new FileNode(fullPath, st, rootless) : null;

    /// <summary>
    /// Sorted child names: byte order of their UTF-8, which for paths is ordinal order. A name that is not UTF-8
    /// comes back with U+FFFD and cannot be opened by it: refused, where it used to be dropped without a word.
    /// </summary>
    public List<string> ChildNames()
    {
        var names = Directory.EnumerateFileSystemEntries(FullPath).Select(Path.GetFileName).OfType<string>().ToList();
        foreach (var name in names)
        {
            if (name.Contains('\uFFFD') && !TryLstatAt(AT_FDCWD, Path.Combine(FullPath, name), out _))
                throw StrataException.Unsupported($"{Path.Combine(FullPath, name)}: the file name is not UTF-8, and strata keeps names as UTF-8 text");
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public string ReadLink() => ReadLinkAt(AT_FDCWD, FullPath);

    /// <summary>The xattrs the layer means (a rootless-form file's own markers hidden, foreign ones under their names).</summary>
    public Dictionary<string, byte[]> Xattrs()
    {
        var raw = ListXattrs(FullPath);
        if (!Rootless) return raw;
        var meant = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (k, v) in raw)
            if (RootlessForm.PresentedName(k) is { } name) meant[name] = v;
        return meant;
    }

    /// <summary>The xattrs on disk, for overlay's own markers.</summary>
    public Dictionary<string, byte[]> RawXattrs() => ListXattrs(FullPath);

    /// <summary>The tar entry for this node (sockets have none); a Regular entry's data opens lazily.</summary>
    public TarEntry? ToEntry(string name, Func<string, bool> keepXattr)
    {
        var type = Stat.Type switch
        {
            S_IFREG => TarEntryType.Regular,
            S_IFDIR => TarEntryType.Directory,
            S_IFLNK => TarEntryType.Symlink,
            S_IFCHR => TarEntryType.CharDevice,
            S_IFBLK => TarEntryType.BlockDevice,
            S_IFIFO => TarEntryType.Fifo,
            _ => (TarEntryType?)null,
        };
        if (type is null) return null;
        var entry = new TarEntry
        {
            Name = name,
            Type = type.Value,
            Mode = Stat.Mode & 0xfff,
            Uid = (int)Stat.Uid,
            Gid = (int)Stat.Gid,
            MTimeSeconds = Stat.Mtime.Seconds,
            MTimeNanoseconds = (int)Stat.Mtime.Nanoseconds,
        };
        if (type == TarEntryType.Regular)
        {
            entry.Size = (long)Stat.Size;
            entry.Data = new LazyFileStream(FullPath, entry.Size);
        }
        else if (type == TarEntryType.Symlink)
        {
            entry.LinkName = ReadLink();
        }
        else if (type is TarEntryType.CharDevice or TarEntryType.BlockDevice)
        {
            entry.DevMajor = (int)Stat.RdevMajor;
            entry.DevMinor = (int)Stat.RdevMinor;
        }
        foreach (var (k, v) in Xattrs())
            if (keepXattr(k)) entry.Xattrs[k] = v;
        return entry;
    }
}
