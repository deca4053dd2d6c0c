using System.Security.Cryptography;
using Strata.Errors;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>
/// A write-only stream into the store's ingest area that hashes as it goes. Commit fsyncs, checks size and
/// digest, and renames into place. Disposing without a commit deletes the partial file, except for a resumable
/// writer: its file (ingest/ALG-HEX.partial, locked while open) keeps the bytes so far for the next attempt,
/// in this process or a later one, which re-hashes them and continues where they end.
/// </summary>
internal sealed class ContentWriter : Stream
{
    private readonly ContentStore _store;
    private readonly Digest? _expected;
    private readonly long? _expectedSize;
    private readonly FileStream _file;
    private readonly IncrementalHash _hash;
    private readonly string _algorithm;
    private readonly bool _resumable;
    private long _written;
    private bool _committed;
    private bool _discard;

    internal ContentWriter(ContentStore store, Digest? expected, long? expectedSize, FileStream? resumeFrom = null, string? resumePath = null)
    {
        _store = store;
        _expected = expected;
        _expectedSize = expectedSize;
        if (expected is { IsVerifiable: false } e)
            throw StrataException.Unsupported($"cannot verify content with digest algorithm {e.Algorithm}");
        _algorithm = expected?.Algorithm ?? Digest.Sha256Algorithm;
        _hash = expected?.CreateHash() ?? IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (resumeFrom is null)
        {
            // Locked while it is written (IO.OwnerLock): a file here no process holds is a killed writer's, swept at once.
            FileStream? file;
            do
            {
                TempPath = Path.Combine(store.IngestDirectory, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
                file = IO.OwnerLock.CreateFile(TempPath);
            }
            while (file is null);
            _file = file;
            return;
        }
        _resumable = true;
        _file = resumeFrom;
        TempPath = resumePath!;
        if (expectedSize is { } max && _file.Length > max) _file.SetLength(0);
        // The hash state cannot be saved, so the bytes already there are hashed again (at memory speed).
        _file.Position = 0;
        var buffer = new byte[1 << 20];
        int n;
        while ((n = _file.Read(buffer)) > 0)
        {
            _hash.AppendData(buffer.AsSpan(0, n));
            _written += n;
        }
    }

    public string TempPath { get; private set; }

    /// <summary>Bytes already in a resumed partial blob: the offset to ask the source for.</summary>
    public long Offset => _written;

    /// <summary>Starts over (the source ignored a range request, or the partial bytes were wrong).</summary>
    public void Restart()
    {
        _file.SetLength(0);
        _file.Position = 0;
        _hash.GetHashAndReset();
        _written = 0;
    }

    /// <summary>Makes a resumable writer delete its partial file on dispose (its bytes are known bad).</summary>
    public void Discard() => _discard = true;
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _written;
    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        CheckSize(buffer.Length);
        _hash.AppendData(buffer);
        try { _file.Write(buffer); }
        catch (IOException e) { throw Broken(e); }
        _written += buffer.Length;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckSize(buffer.Length);
        _hash.AppendData(buffer.Span);
        try { await _file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false); }
        catch (IOException e) { throw Broken(e); }
        // Counted once written: a byte that did not land is no progress (a retry allowance must not reset on it).
        _written += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void CheckSize(int adding)
    {
        if (_expectedSize is not { } max || _written + adding <= max) return;
        _discard = true;
        throw StrataException.Invalid($"content for {_expected?.ToString() ?? "blob"} is larger than the expected {max} bytes");
    }

    public (Digest Digest, long Size) Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        if (_expectedSize is { } size && size != _written)
            throw StrataException.Invalid($"content for {_expected?.ToString() ?? "blob"} is {_written} bytes, expected {size} (truncated?)");
        var actual = Digest.FromHash(_algorithm, _hash.GetHashAndReset());
        if (_expected is { } e && e != actual)
        {
            _discard = true;
            throw new DigestMismatchException(e, actual);
        }
        try { _file.Flush(flushToDisk: true); }
        catch (IOException io) { throw Broken(io); }
        var target = _store.BlobPath(actual);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // Renamed while still open: a resumable file's lock must outlive its name, or a waiter would take the lock and
        // resume a file about to vanish.
        _store.Publish(actual, TempPath);
        _committed = true;
        _file.Dispose();
        // The metadata that will name this blob must never outlive the blob's directory entry.
        Native.Libc.FsyncDirectory(Path.GetDirectoryName(target)!);
        return (actual, _written);
    }

    /// <summary>
    /// A failed write leaves the file and the hash out of step, and a full disk will not heal by retrying: the
    /// partial file goes at once (it frees space), and the failure is one of the disk's, never a network fault.
    /// </summary>
    private StrataException Broken(IOException e)
    {
        _discard = true;
        return StorageFaults.Translate(e, _store.Root)
            ?? new StrataException(ErrorKind.Storage, $"writing {TempPath}: {e.Message}", e);
    }

    public override void Flush()
    {
        try { _file.Flush(); }
        catch (IOException e) { throw Broken(e); }
    }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // A resumable file is unlinked before its lock goes with the close, so no waiter resumes a deleted file.
            if (!_committed && (!_resumable || _discard))
            {
                try { File.Delete(TempPath); } catch (IOException) { }
            }
            // Closing flushes what is buffered; if that fails (a full disk) the partial file cannot be trusted and goes.
            try { _file.Dispose(); }
            catch (IOException)
            {
                if (!_committed) try { File.Delete(TempPath); } catch (IOException) { }
            }
            _hash.Dispose();
            _committed = true;
        }
        base.Dispose(disposing);
    }
}
