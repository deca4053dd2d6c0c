using Strata.Archive;
using Strata.Archive.Compression;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Images;

/// <summary>Computes a layer blob's DiffID: the digest of its uncompressed tar, every byte.</summary>
internal static class LayerDigests
{
    /// <summary>A stored layer blob's DiffID and uncompressed size: recorded once, computed (every byte) when not yet.</summary>
    public static (Digest DiffId, long UncompressedSize) Of(StrataStore store, Digest blob)
    {
        if (store.Images.GetLayerInfo(blob) is { } known) return known;
        using var s = store.Content.OpenRead(blob);
        var (diffId, size, _) = ComputeDiffId(s);
        store.Images.PutLayerInfo(blob, diffId, size);
        return (diffId, size);
    }

    public static (Digest DiffId, long UncompressedSize, Compression Compression) ComputeDiffId(Stream blob)
    {
        using var tar = LayerStreams.OpenDecompressed(blob, out var compression);
        using var hashing = new HashingStream(Stream.Null);
        tar.CopyTo(hashing, 1 << 20);
        return (hashing.GetDigest(), hashing.BytesCount, compression);
    }
}
