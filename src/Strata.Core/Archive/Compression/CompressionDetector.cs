using Strata.Oci;

namespace Strata.Archive.Compression;

/// <summary>Sniffs a layer's compression from its first bytes (media types are only labels).</summary>
internal static class CompressionDetector
{
    /// <summary>Bytes of head needed for a decision.</summary>
    public const int HeadLength = 4;

    public static Oci.Compression Detect(ReadOnlySpan<byte> head) =>
        head.StartsWith((ReadOnlySpan<byte>)[0x1f, 0x8b]) ? Oci.Compression.Gzip
        : head.StartsWith((ReadOnlySpan<byte>)[0x28, 0xb5, 0x2f, 0xfd]) ? Oci.Compression.Zstd
        : Oci.Compression.None;

    /// <summary>The compression of a stored blob, from its first bytes.</summary>
    public static Oci.Compression Detect(Storage.ContentStore store, Digest blob)
    {
        using var s = store.OpenRead(blob);
        Span<byte> head = stackalloc byte[HeadLength];
        return Detect(head[..s.ReadAtLeast(head, HeadLength, throwOnEndOfStream: false)]);
    }
}
