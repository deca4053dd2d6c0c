using Strata.Archive;
using Strata.Archive.Compression;
using Strata.Oci;

namespace Strata.Images;

/// <summary>Computes a layer blob's DiffID: the digest of its uncompressed tar, every byte.</summary>
public static class LayerDigests
{
    public static (Digest DiffId, long UncompressedSize, Compression Compression) ComputeDiffId(Stream blob)
    {
        using var tar = LayerStreams.OpenDecompressed(blob, out var compression);
        using var hashing = new HashingStream(Stream.Null);
        tar.CopyTo(hashing, 1 << 20);
        return (hashing.GetDigest(), hashing.BytesCount, compression);
    }
}
