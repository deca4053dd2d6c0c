using System.Security.Cryptography;
using Strata.Oci;

namespace Strata.Archive;

/// <summary>
/// Passes bytes through to or from <c>inner</c> and SHA-256-hashes and counts them on the way: wrap a source
/// to hash what is read, or a sink to hash what is written. Use one direction per instance.
/// </summary>
internal sealed class HashingStream(Stream inner, bool leaveOpen = false) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Bytes hashed so far.</summary>
    public long BytesCount { get; private set; }

    public Digest GetDigest()
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        _hash.GetCurrentHash(hash);
        return Digest.FromSha256Hash(hash);
    }

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesCount; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        _hash.AppendData(buffer[..n]);
        BytesCount += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        _hash.AppendData(buffer);
        BytesCount += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!leaveOpen)
                inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
