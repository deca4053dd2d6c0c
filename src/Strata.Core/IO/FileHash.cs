using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.IO;

/// <summary>
/// SHA-256 of a file at disk and hash speed: 128 KiB reads, which stay in the L2 cache for the hash (a small file in one), no FileStream buffering, no .NET
/// advisory lock (a FileStream by path takes flock, which a writer's LOCK_EX would make fail).
/// </summary>
internal static class FileHash
{
    private const int ChunkSize = 128 << 10;

    /// <summary>
    /// The SHA-256 of a file's first <paramref name="size"/> bytes (its lstat size: a walk hashes thousands of files,
    /// so one pread for a small one, no EOF probe, no SafeHandle); a symlink is not followed (ELOOP). A file shorter
    /// than that hashes what it has, which differs from any record of it.
    /// </summary>
    public static unsafe byte[] Sha256(string path, long size)
    {
        int fd = OpenAt(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
        if (fd < 0) throw new ErrnoException(LastErrno, "open", path);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(size, 1, ChunkSize));
        try
        {
            using var hash = size <= buffer.Length ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long offset = 0;
            int filled = 0;
            fixed (byte* p = buffer)
            {
                while (offset < size)
                {
                    nint n = Pread(fd, p + filled, (nuint)Math.Min(buffer.Length - filled, size - offset), offset);
                    if (n < 0 && LastErrno == Errno.EINTR) continue;
                    if (n < 0) throw new ErrnoException(LastErrno, "read", path);
                    if (n == 0) break;
                    offset += n;
                    filled += (int)n;
                    if (hash is not null && filled == buffer.Length)
                    {
                        hash.AppendData(buffer, 0, filled);
                        filled = 0;
                    }
                }
            }
            if (hash is null) return SHA256.HashData(buffer.AsSpan(0, filled));
            hash.AppendData(buffer, 0, filled);
            return hash.GetHashAndReset();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Close(fd);
        }
    }

    /// <summary>The SHA-256 of everything an open file holds.</summary>
    public static byte[] Sha256(SafeFileHandle handle)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long offset = 0;
            int n;
            while ((n = RandomAccess.Read(handle, buffer, offset)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                offset += n;
            }
            return hash.GetHashAndReset();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
