using Strata.Errors;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>
/// Blobs addressed by digest under root/blobs/ALG/ENCODED. A blob becomes visible only by an atomic rename
/// after its size and digest were checked while it streamed in, so readers never see a partial or wrong blob.
/// </summary>
internal sealed class ContentStore
{
    private ContentStore(string root)
    {
        Root = root;
        BlobsDirectory = Path.Combine(root, "blobs");
        IngestDirectory = Path.Combine(root, "ingest");
    }

    /// <summary>The content store at root, with the directories blobs and ingest files go to made if missing (and <paramref name="create"/>).</summary>
    public static ContentStore Open(string root, bool create = true)
    {
        var store = new ContentStore(root);
        if (!create) return store;
        Directory.CreateDirectory(Path.Combine(store.BlobsDirectory, Digest.Sha256Algorithm));
        Directory.CreateDirectory(store.IngestDirectory);
        return store;
    }

    public string Root { get; }
    public string BlobsDirectory { get; }
    public string IngestDirectory { get; }

    /// <summary>The path of a blob; the digest was validated when parsed, so it cannot name anything else.</summary>
    public string BlobPath(Digest digest) => Path.Combine(BlobsDirectory, digest.Algorithm, digest.Encoded);

    /// <summary>
    /// The lease of the operation this store serves, if it took one: then whatever it asks about or adds is held
    /// from that moment (a blob found here is not collected before the image that will name it is recorded).
    /// </summary>
    internal Lease? Lease { get; set; }

    public bool Exists(Digest digest) => Held(digest, () => File.Exists(BlobPath(digest)));

    public long? GetSize(Digest digest) => Held(digest, () =>
    {
        var fi = new FileInfo(BlobPath(digest));
        return fi.Exists ? fi.Length : (long?)null;
    });

    /// <summary>Renames a new blob into place, held by the lease first (see <see cref="Lease.Hold{T}"/>).</summary>
    internal void Publish(Digest digest, string from) => Held(digest, () =>
    {
        // Idempotent: a blob already there has these very bytes.
        File.Move(from, BlobPath(digest), overwrite: true);
        return true;
    });

    private T Held<T>(Digest digest, Func<T> use) => Lease is { } lease ? lease.Hold(RefKind.Blob, digest.ToString(), use) : use();

    /// <remarks>
    /// Opened without .NET's advisory lock (a FileStream by path takes flock LOCK_SH): a blob is immutable once named,
    /// and its writer still holds LOCK_EX on it for a moment after the rename, so a concurrent reader by path would fail
    /// with "being used by another process".
    /// </remarks>
    public Stream OpenRead(Digest digest)
    {
        var path = BlobPath(digest);
        int fd = Native.Libc.OpenAt(Native.Libc.AT_FDCWD, path, Native.Libc.O_RDONLY | Native.Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Native.Libc.LastErrno;
            if (errno is Native.Errno.ENOENT or Native.Errno.ENOTDIR) throw StrataException.NotFound($"blob {digest} not found in the store");
            throw new Native.ErrnoException(errno, "open", path);
        }
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 1 << 16);
    }

    /// <summary>Reads a small blob (a manifest or config) whole, verifying it.</summary>
    public byte[] ReadAll(Digest digest, long maxSize = 32 << 20)
    {
        using var s = OpenRead(digest);
        if (s.Length > maxSize) throw StrataException.Invalid($"blob {digest} is {s.Length} bytes, more than the {maxSize} allowed here");
        var data = new byte[s.Length];
        s.ReadExactly(data);
        if (digest.IsVerifiable && digest.Compute(data) != digest)
            throw new DigestMismatchException(digest, digest.Compute(data), $"stored blob {digest}");
        return data;
    }

    /// <summary>Opens a writer for new content; <paramref name="expected"/> fixes the algorithm and is checked on commit.</summary>
    public ContentWriter OpenWriter(Digest? expected = null, long? expectedSize = null) =>
        new(this, expected, expectedSize);

    /// <summary>
    /// A writer that keeps its bytes across failures and processes (ingest/ALG-HEX.partial), for downloads that
    /// resume with a range request. Null when the blob is already stored, perhaps by a process this one waited for.
    /// </summary>
    public ContentWriter? OpenResumable(Digest expected, long size)
    {
        var path = Path.Combine(IngestDirectory, $"{expected.Algorithm}-{expected.Encoded}.partial");
        while (true)
        {
            if (Exists(expected)) return null;
            var file = Native.Libc.OpenForLocking(path, create: true);
            try
            {
                // Waits while the holder's download grows (a large layer may take long), fails if it stalls.
                Native.Libc.Lock(file, exclusive: true, wait: true, $"the partial download {path}",
                    () => (long)Native.Libc.StatFd((int)file.SafeFileHandle.DangerousGetHandle()).Size);
                // The holder we waited for may have committed (renamed) or discarded (unlinked) this file: if the
                // path no longer names the inode we locked, start again with what is there now.
                if (Native.Libc.TryLstatAt(Native.Libc.AT_FDCWD, path, out var st)
                    && st.Ino == Native.Libc.StatFd((int)file.SafeFileHandle.DangerousGetHandle()).Ino)
                {
                    // Our open may have created this file just after a holder committed the blob.
                    if (Exists(expected))
                    {
                        File.Delete(path);
                        file.Dispose();
                        return null;
                    }
                    return new ContentWriter(this, expected, size, file, path);
                }
            }
            catch
            {
                file.Dispose();
                throw;
            }
            file.Dispose();
        }
    }

    /// <summary>Stores a small document; a stored copy that bit rot changed is replaced by these bytes (they match the digest).</summary>
    public Descriptor Put(string mediaType, ReadOnlySpan<byte> data)
    {
        var desc = Descriptor.For(mediaType, data);
        if (!Holds(desc.Digest, data))
        {
            using var w = OpenWriter(desc.Digest, desc.Size);
            w.Write(data);
            w.Commit();
        }
        return desc;
    }

    private bool Holds(Digest digest, ReadOnlySpan<byte> data)
    {
        if (GetSize(digest) != data.Length) return false;
        using var s = OpenRead(digest);
        var stored = new byte[data.Length];
        s.ReadExactly(stored);
        return data.SequenceEqual(stored);
    }

    /// <summary>Copies a stream into the store, verified against the expected digest and size when given.</summary>
    public async Task<(Digest Digest, long Size)> IngestAsync(Stream source, Digest? expected, long? expectedSize, CancellationToken cancellationToken = default)
    {
        if (expected is { } e && Exists(e))
        {
            // Already present: the bytes must still be consumed by the caller's stream where it matters (archives skip).
            return (e, GetSize(e)!.Value);
        }
        using var w = OpenWriter(expected, expectedSize);
        await source.CopyToAsync(w, 1 << 20, cancellationToken).ConfigureAwait(false);
        return w.Commit();
    }

    /// <summary>Hashes a stored blob: what its bytes' digest is (bit rot shows as another digest than its name).</summary>
    public Digest Rehash(Digest digest)
    {
        using var blob = (FileStream)OpenRead(digest);
        return Digest.Parse("sha256:" + Convert.ToHexStringLower(IO.FileHash.Sha256(blob.SafeFileHandle)));
    }

    /// <summary>Throws a digest mismatch when a stored blob's bytes are not what its name says.</summary>
    public void Verify(Digest digest)
    {
        var actual = Rehash(digest);
        if (actual != digest) throw new DigestMismatchException(digest, actual, $"stored blob {digest}");
    }

    public void Delete(Digest digest)
    {
        try { File.Delete(BlobPath(digest)); }
        catch (DirectoryNotFoundException) { }
    }

    public IEnumerable<Digest> List()
    {
        foreach (var algDir in Directory.EnumerateDirectories(BlobsDirectory))
        {
            var alg = Path.GetFileName(algDir);
            foreach (var f in Directory.EnumerateFiles(algDir))
                if (Digest.TryParse($"{alg}:{Path.GetFileName(f)}", out var d)) yield return d;
        }
    }

    /// <summary>
    /// Removes ingest files no live process holds (every writer locks its file, see <see cref="IO.OwnerLock"/>): a killed
    /// writer's file goes at once. A partial download is kept for a later pull to resume until it is
    /// <paramref name="partialsOlderThan"/> old; prune passes zero, as it frees all it can.
    /// </summary>
    public void CleanIngest(TimeSpan partialsOlderThan)
    {
        foreach (var f in Directory.EnumerateFiles(IngestDirectory))
        {
            try
            {
                if (f.EndsWith(".partial", StringComparison.Ordinal) && DateTime.UtcNow - File.GetLastWriteTimeUtc(f) < partialsOlderThan) continue;
                IO.OwnerLock.TryRemoveAbandoned(f);
            }
            catch (Exception e) when (e is IOException or StrataException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>The sizes of the ingest files no live process writes (what a prune removes).</summary>
    public IEnumerable<long> Abandoned() =>
        Directory.Exists(IngestDirectory)
            ? Directory.EnumerateFiles(IngestDirectory).Where(f => !IO.OwnerLock.IsHeld(f)).Select(f => new FileInfo(f)).Where(f => f.Exists).Select(f => f.Length)
            : [];

    /// <summary>
    /// Deletes the partial download of a blob unless a writer holds it: after a full disk failed a pull, the bytes kept
    /// for resuming would only keep the space the user needs back.
    /// </summary>
    public void DiscardPartial(Digest digest)
    {
        var path = Path.Combine(IngestDirectory, $"{digest.Algorithm}-{digest.Encoded}.partial");
        try
        {
            using var file = Native.Libc.OpenForLocking(path, create: false, FileAccess.Read);
            if (Native.Libc.Lock(file, exclusive: true, wait: false, path)) File.Delete(path);
        }
        catch (Exception e) when (e is IOException or StrataException) { }
    }

    /// <summary>Partial downloads in the ingest area: the digest each will become and the bytes it has.</summary>
    public IEnumerable<(Digest Digest, long Size)> ListPartial()
    {
        foreach (var f in Directory.EnumerateFiles(IngestDirectory, "*.partial"))
        {
            var name = Path.GetFileNameWithoutExtension(f);
            int dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && Digest.TryParse($"{name[..dash]}:{name[(dash + 1)..]}", out var d)) yield return (d, new FileInfo(f).Length);
        }
    }
}
