using Strata.IO;

namespace Strata.Archive.Tar;

/// <summary>The logical content of a sparse file: stored regions from the packed data, zeros in the holes.</summary>
internal sealed class SparseStream(Stream packed, IReadOnlyList<(long Offset, long Length)> map, long size) : ReadOnlyStream
{
    private long _position;
    private int _segment;   // first map region that ends after _position
    public override long Length => size;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _position >= size)
            return 0;
        while (_segment < map.Count && map[_segment].Offset + map[_segment].Length <= _position)
            _segment++;

        long regionStart = _segment < map.Count ? map[_segment].Offset : size;
        int n;
        if (_position < regionStart)
        {
            n = (int)Math.Min(buffer.Length, regionStart - _position);
            buffer[..n].Clear();
        }
        else
        {
            long regionEnd = map[_segment].Offset + map[_segment].Length;
            n = packed.Read(buffer[..(int)Math.Min(buffer.Length, regionEnd - _position)]);
            if (n == 0)
                throw new InvalidOperationException("sparse data ended early");   // the map was validated against the stored size
        }
        _position += n;
        return n;
    }
}
