namespace Strata.Archive.Tar;

/// <summary>The entry kinds a layer can hold (tar typeflags, normalised: PAX/GNU meta entries never surface).</summary>
internal enum TarEntryType : byte
{
    Regular = (byte)'0',
    HardLink = (byte)'1',
    Symlink = (byte)'2',
    CharDevice = (byte)'3',
    BlockDevice = (byte)'4',
    Directory = (byte)'5',
    Fifo = (byte)'6',
}
