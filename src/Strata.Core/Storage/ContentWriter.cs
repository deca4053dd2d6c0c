using System.Security.Cryptography;
using Strata.Errors;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>
/// A write-only stream into the store's ingest area that hashes as it goes. Commit fsyncs, checks size and
/// digest, and renames into place; disposing without a commit deletes the partial file.
/// </summary>
public sealed class ContentWriter : Stream
{
    private readonly ContentStore _store;
    private readonly Digest? _expected;
    private readonly long? _expectedSize;
    private readonly FileStream _file;
    private readonly IncrementalHash _hash;
    private readonly string _algorithm;
    private long _written;
    private bool _committed;

    internal ContentWriter(ContentStore store, Digest? expected, long? expectedSize)
    {
        _store = store;
        _expected = expected;
        _expectedSize = expectedSize;
        if (expected is { IsVerifiable: false } e)
            throw StrataException.Unsupported($"cannot verify content with digest algorithm {e.Algorithm}");
        _algorithm = expected?.Algorithm ?? Digest.Sha256Algorithm;
        _hash = expected?.CreateHash() ?? IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        TempPath = Path.Combine(store.IngestDirectory, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        _file = new FileStream(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    public string TempPath { get; }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _written;
    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _written += buffer.Length;
        if (_expectedSize is { } max && _written > max)
            throw StrataException.Invalid($"content for {_expected?.ToString() ?? "blob"} is larger than the expected {max} bytes");
        _hash.AppendData(buffer);
        _file.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _written += buffer.Length;
        if (_expectedSize is { } max && _written > max)
            throw StrataException.Invalid($"content for {_expected?.ToString() ?? "blob"} is larger than the expected {max} bytes");
        _hash.AppendData(buffer.Span);
        await _file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public (Digest Digest, long Size) Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        var actual = Digest.FromHash(_algorithm, _hash.GetHashAndReset());
        if (_expectedSize is { } size && size != _written)
            throw StrataException.Invalid($"content for {_expected?.ToString() ?? actual.ToString()} is {_written} bytes, expected {size} (truncated?)");
        if (_expected is { } e && e != actual) throw new DigestMismatchException(e, actual);
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        var target = _store.BlobPath(actual);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // Idempotent: a blob already there has these very bytes.
        File.Move(TempPath, target, overwrite: true);
        // The metadata that will name this blob must never outlive the blob's directory entry.
        Native.Libc.FsyncDirectory(Path.GetDirectoryName(target)!);
        _committed = true;
        return (actual, _written);
    }

    public override void Flush() => _file.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
            _hash.Dispose();
            if (!_committed)
            {
                try { File.Delete(TempPath); } catch (IOException) { }
            }
            _committed = true;
        }
        base.Dispose(disposing);
    }
}
