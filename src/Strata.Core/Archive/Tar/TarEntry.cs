namespace Strata.Archive.Tar;

/// <summary>
/// One file-system object of a layer, as the tar reader yields it and the tar writer takes it.
/// Names are relative, '/'-separated, without a leading "./" or "/", and never end in '/'.
/// Xattr values are raw bytes (System.Formats.Tar cannot carry binary values such as security.capability).
/// </summary>
internal sealed class TarEntry
{
    public required string Name { get; set; }
    public TarEntryType Type { get; set; } = TarEntryType.Regular;

    /// <summary>Target of a symlink, or the entry name a hard link points at.</summary>
    public string LinkName { get; set; } = "";

    /// <summary>Permission bits including setuid/setgid/sticky (07777), without the file-type bits.</summary>
    public int Mode { get; set; }
    public int Uid { get; set; }
    public int Gid { get; set; }
    public string? UserName { get; set; }
    public string? GroupName { get; set; }

    /// <summary>Logical size of a regular file's content (for a sparse file, its full apparent size).</summary>
    public long Size { get; set; }

    /// <summary>Modification time, seconds since the epoch, and the nanoseconds a PAX record may add.</summary>
    public long MTimeSeconds { get; set; }
    public int MTimeNanoseconds { get; set; }

    public int DevMajor { get; set; }
    public int DevMinor { get; set; }

    /// <summary>Extended attributes (from PAX SCHILY.xattr.* records), value bytes exact.</summary>
    public Dictionary<string, byte[]> Xattrs { get; } = new(StringComparer.Ordinal);

    /// <summary>For a sparse file: the data regions (offset, length) in file coordinates; null when not sparse.</summary>
    public IReadOnlyList<(long Offset, long Length)>? SparseMap { get; set; }

    /// <summary>
    /// A regular file's content: exactly <see cref="Size"/> bytes, holes of a sparse file expanded to zeros.
    /// Valid until the reader moves on; null for every other type.
    /// </summary>
    public Stream? Data { get; set; }

    public bool IsDirectory => Type == TarEntryType.Directory;

    public override string ToString() => $"{(char)Type} {Name}";
}
