using Strata.IO;

namespace Strata.Archive.Tar;

/// <summary>
/// Read-only view of the current entry's stored data, straight from the archive stream: nothing is buffered,
/// and it stops being readable once the reader moves to the next entry.
/// </summary>
internal sealed class TarEntryStream(TarReader reader, int generation, long length) : ReadOnlyStream
{
    private long _position;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        int n = reader.ReadEntryData(generation, buffer);
        _position += n;
        return n;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }
}
