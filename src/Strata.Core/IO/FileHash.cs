using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Strata.Native;
using static Strata.Native.Libc;

namespace Strata.IO;

/// <summary>
/// SHA-256 of a file at disk and hash speed: 1 MiB reads (a small file in one), no FileStream buffering, no .NET
/// advisory lock (a FileStream by path takes flock, which a writer's LOCK_EX would make fail).
/// </summary>
internal static class FileHash
{
    private const int ChunkSize = 1 << 20;

    /// <summary>The content's SHA-256; a symlink is not followed (ELOOP).</summary>
    public static byte[] Sha256(string path)
    {
        int fd = OpenAt(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
        if (fd < 0) throw new ErrnoException(LastErrno, "open", path);
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        return Sha256(handle);
    }

    public static byte[] Sha256(SafeFileHandle handle)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            int n = RandomAccess.Read(handle, buffer, 0);
            if (n < buffer.Length && RandomAccess.Read(handle, buffer.AsSpan(n), n) == 0) return SHA256.HashData(buffer.AsSpan(0, n));
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long offset = 0;
            while (n > 0)
            {
                hash.AppendData(buffer, 0, n);
                offset += n;
                n = RandomAccess.Read(handle, buffer, offset);
            }
            return hash.GetHashAndReset();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
