using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Strata.Errors;
using Strata.IO;

namespace Strata.Archive.Compression;

/// <summary>
/// Gzip decompression that, unlike GZipStream, notices truncation: GZipStream returns a clean EOF when its input
/// stops mid-member. Here each member's header is parsed, its deflate data goes through a DeflateStream, and its
/// CRC-32/ISIZE trailer must match; concatenated members (pigz, cat a.gz b.gz) follow one another.
/// </summary>
internal sealed class GzipReadStream : ReadOnlyStream
{
    private const int BufferSize = 64 * 1024;

    private readonly Stream _raw;
    private readonly bool _leaveOpen;
    private byte[] _buf = new byte[BufferSize];
    private int _start, _end;          // raw bytes buffered but not handed out
    private int _lastChunk = -1;       // where the last chunk given to the DeflateStream began in _buf
    private bool _rawEof;
    private DeflateStream? _deflate;
    private readonly Crc32 _crc = new();   // vectorised, so checking the trailer costs the hot path little
    private long _memberSize;
    private int _members;
    private bool _done;

    public GzipReadStream(Stream raw, bool leaveOpen)
    {
        _raw = raw;
        _leaveOpen = leaveOpen;
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
            return 0;
        while (!_done)
        {
            if (_deflate == null && !StartMember())
            {
                _done = true;
                break;
            }
            int n;
            try
            {
                n = _deflate!.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw Corrupt(e.Message);
            }
            if (n > 0)
            {
                _crc.Append(buffer[..n]);
                _memberSize += n;
                return n;
            }
            FinishMember();
        }
        return 0;
    }

    private bool StartMember()
    {
        if (!Fill(1))
        {
            if (_members == 0)
                throw Corrupt("empty input");
            return false;
        }
        if (_members > 0 && _buf[_start] == 0)
        {
            // Zero padding after the last member is tolerated (as gzip -d does); anything else is not.
            while (Fill(1))
            {
                if (_buf.AsSpan(_start, _end - _start).ContainsAnyExcept((byte)0))
                    throw Corrupt("trailing garbage after the last member");
                _start = _end;
            }
            return false;
        }
        if (!Fill(10))
            throw Corrupt("unexpected end of data in member header");
        var h = _buf.AsSpan(_start, 10);
        if (h[0] != 0x1f || h[1] != 0x8b)
            throw Corrupt(_members == 0 ? "not gzip data" : "trailing garbage after the last member");
        if (h[2] != 8 || (h[3] & 0xe0) != 0)
            throw Corrupt("unsupported member header");
        byte flags = h[3];
        _start += 10;
        if ((flags & 4) != 0)   // FEXTRA
        {
            if (!Fill(2))
                throw Corrupt("unexpected end of data in member header");
            int xlen = BinaryPrimitives.ReadUInt16LittleEndian(_buf.AsSpan(_start));
            _start += 2;
            Skip(xlen);
        }
        if ((flags & 8) != 0)   // FNAME
            SkipZeroTerminated();
        if ((flags & 16) != 0)  // FCOMMENT
            SkipZeroTerminated();
        if ((flags & 2) != 0)   // FHCRC
            Skip(2);

        _members++;
        _crc.Reset();
        _memberSize = 0;
        _lastChunk = -1;
        _deflate = new DeflateStream(new Feed(this), CompressionMode.Decompress, leaveOpen: false);
        return true;
    }

    /// <summary>
    /// The deflate data ended somewhere in the last chunk handed over (DeflateStream keeps what it read past
    /// the end): find the 8-byte trailer that matches this member's CRC and size, and resume right after it.
    /// </summary>
    private void FinishMember()
    {
        _deflate!.Dispose();
        _deflate = null;
        if (_lastChunk < 0)
            throw Truncated();
        // Keep the last chunk and what follows contiguous at the front of the buffer.
        Compact(_lastChunk);
        int delivered = _start;
        Span<byte> want = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(want, _crc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(want[4..], (uint)_memberSize);
        FillTo(delivered + 8);
        // Low-entropy bytes (an empty member's "03 00" and zero trailer) can match early, so a candidate counts
        // only if what follows is the end, another member, or (weaker) zero padding.
        int weak = -1;
        for (int p = 0; p <= delivered && p + 8 <= _end; p++)
        {
            if (!_buf.AsSpan(p, 8).SequenceEqual(want))
                continue;
            FillTo(p + 10);
            int next = p + 8;
            if ((next == _end && _rawEof) || (next + 2 <= _end && _buf[next] == 0x1f && _buf[next + 1] == 0x8b))
            {
                _start = next;
                return;
            }
            if (weak < 0 && next < _end && _buf[next] == 0)
                weak = next;
        }
        if (weak < 0)
            throw Truncated();
        _start = weak;
    }

    private int FeedRead(Span<byte> buffer)
    {
        if (!Fill(1))
            return 0;
        int n = Math.Min(buffer.Length, _end - _start);
        _buf.AsSpan(_start, n).CopyTo(buffer);
        _lastChunk = _start;
        _start += n;
        return n;
    }

    /// <summary>Ensures at least <paramref name="count"/> unconsumed bytes are buffered; false at EOF before that.</summary>
    private bool Fill(int count)
    {
        if (_end - _start >= count)
            return true;
        if (_start + count > _buf.Length)
            Compact(_start);
        FillTo(_start + count);
        return _end - _start >= count;
    }

    /// <summary>Reads until the buffer holds data up to index <paramref name="end"/>, or EOF; never moves data.</summary>
    private void FillTo(int end)
    {
        if (end > _buf.Length)
            Array.Resize(ref _buf, end);
        while (_end < end && !_rawEof)
        {
            int n = _raw.Read(_buf, _end, _buf.Length - _end);
            if (n == 0)
                _rawEof = true;
            _end += n;
        }
    }

    /// <summary>Moves buffered bytes from <paramref name="from"/> on to the front of the buffer.</summary>
    private void Compact(int from)
    {
        if (from == 0)
            return;
        _buf.AsSpan(from, _end - from).CopyTo(_buf);
        _end -= from;
        _start -= from;
        if (_lastChunk >= 0)
            _lastChunk = Math.Max(-1, _lastChunk - from);
    }

    private void Skip(int count)
    {
        while (count > 0)
        {
            if (!Fill(1))
                throw Corrupt("unexpected end of data in member header");
            int n = Math.Min(count, _end - _start);
            _start += n;
            count -= n;
        }
    }

    private void SkipZeroTerminated()
    {
        while (true)
        {
            if (!Fill(1))
                throw Corrupt("unexpected end of data in member header");
            if (_buf[_start++] == 0)
                return;
        }
    }

    private static StrataException Corrupt(string why) =>
        new(ErrorKind.InvalidContent, $"corrupt or truncated gzip stream: {why}");

    private static StrataException Truncated() => Corrupt("unexpected end of data or bad member trailer");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _deflate?.Dispose();
            if (!_leaveOpen)
                _raw.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>What the DeflateStream reads from: the shared buffer, so the bytes it over-reads stay findable.</summary>
    private sealed class Feed(GzipReadStream owner) : ReadOnlyStream
    {
        public override int Read(Span<byte> buffer) => owner.FeedRead(buffer);
        public override int Read(byte[] buffer, int offset, int count) => owner.FeedRead(buffer.AsSpan(offset, count));
    }
}
