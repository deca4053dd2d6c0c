using System.Security.Cryptography;
using Strata.Errors;
using Strata.Oci;
using Strata.IO;

namespace Strata.Storage;

/// <summary>
/// Read-through stream bounded by a descriptor: it yields at most the expected size and fails at the end
/// when the bytes do not have the expected digest, so corrupt content never passes unnoticed.
/// </summary>
internal sealed class VerifyingStream : ReadOnlyStream
{
    private readonly Stream _inner;
    private readonly Digest _expected;
    private readonly long _size;
    private readonly string _what;
    private readonly IncrementalHash _hash;
    private long _read;
    private bool _verified;

    public VerifyingStream(Stream inner, Digest expected, long size, string what)
    {
        _inner = inner;
        _expected = expected;
        _size = size;
        _what = what;
        _hash = expected.CreateHash();
    }
    public override long Length => _size;
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        long left = _size - _read;
        if (left == 0)
        {
            Verify();
            return 0;
        }
        if (buffer.Length > left) buffer = buffer[..(int)left];
        int n = _inner.Read(buffer);
        if (n == 0) throw StrataException.Invalid($"{_what}: truncated: {_read} of {_size} bytes");
        _hash.AppendData(buffer[..n]);
        _read += n;
        if (_read == _size) Verify();
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        long left = _size - _read;
        if (left == 0)
        {
            Verify();
            return 0;
        }
        if (buffer.Length > left) buffer = buffer[..(int)left];
        int n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (n == 0) throw StrataException.Invalid($"{_what}: truncated: {_read} of {_size} bytes");
        _hash.AppendData(buffer.Span[..n]);
        _read += n;
        if (_read == _size) Verify();
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads whatever the consumer left and verifies the whole.</summary>
    public void DrainAndVerify()
    {
        var buf = new byte[1 << 16];
        while (Read(buf) > 0) { }
        Verify();
    }

    private void Verify()
    {
        if (_verified) return;
        var actual = Digest.FromHash(_expected.Algorithm, _hash.GetHashAndReset());
        if (actual != _expected) throw new DigestMismatchException(_expected, actual, _what);
        _verified = true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
