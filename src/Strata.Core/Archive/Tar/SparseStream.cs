namespace Strata.Archive.Tar;

/// <summary>The logical content of a sparse file: stored regions from the packed data, zeros in the holes.</summary>
internal sealed class SparseStream(Stream packed, IReadOnlyList<(long Offset, long Length)> map, long size) : Stream
{
    private long _position;
    private int _segment;   // first map region that ends after _position

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
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

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
