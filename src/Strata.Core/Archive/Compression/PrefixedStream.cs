using Strata.IO;

namespace Strata.Archive.Compression;

/// <summary>Replays bytes already peeked from a non-seekable stream, then continues with the stream.</summary>
internal sealed class PrefixedStream(byte[] prefix, Stream inner, bool leaveOpen) : ReadOnlyStream
{
    private int _prefixPos;

    public override int Read(Span<byte> buffer)
    {
        if (_prefixPos < prefix.Length && !buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, prefix.Length - _prefixPos);
            prefix.AsSpan(_prefixPos, n).CopyTo(buffer);
            _prefixPos += n;
            return n;
        }
        return inner.Read(buffer);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
