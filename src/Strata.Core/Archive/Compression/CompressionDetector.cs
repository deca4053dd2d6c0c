using System.Buffers.Binary;
using Strata.Oci;

namespace Strata.Archive.Compression;

/// <summary>Sniffs a layer's compression from its first bytes (media types are only labels).</summary>
internal static class CompressionDetector
{
    /// <summary>Bytes of head that decide (xz's magic is the longest), unless they begin a skippable frame.</summary>
    public const int HeadLength = 6;

    /// <summary>How far past skippable frames detection looks for the real frame (libarchive's bidders look as far).</summary>
    public const int MaxLookAhead = 64 * 1024;

    private const uint SkippableMagic = 0x184D2A50, SkippableMask = 0xFFFFFFF0;
    private static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xb5, 0x2f, 0xfd];
    private static ReadOnlySpan<byte> Lz4Magic => [0x04, 0x22, 0x4d, 0x18];

    /// <summary>True when <paramref name="head"/> opens with a skippable frame, so Detect needs up to <see cref="MaxLookAhead"/> bytes.</summary>
    public static bool NeedsLookAhead(ReadOnlySpan<byte> head) =>
        head.Length >= 4 && (BinaryPrimitives.ReadUInt32LittleEndian(head) & SkippableMask) == SkippableMagic;

    /// <summary>
    /// Zstd and LZ4 share the skippable frame (magic 0x184D2A50-5F, length, payload): the first frame after them
    /// decides. When that frame lies beyond the bytes given, zstd is assumed, as containerd assumes it.
    /// </summary>
    public static Oci.Compression Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1f, 0x8b]))
            return Oci.Compression.Gzip;
        var frame = PastSkippableFrames(head);
        return frame.StartsWith(ZstdMagic) || (frame.IsEmpty && NeedsLookAhead(head)) ? Oci.Compression.Zstd
            : Oci.Compression.None;
    }

    /// <summary>The name of a compression Strata recognises but does not read, or null.</summary>
    public static string? Unreadable(ReadOnlySpan<byte> head)
    {
        var frame = PastSkippableFrames(head);
        return frame.StartsWith(Lz4Magic) ? "lz4"
            : head.StartsWith("BZh"u8) ? "bzip2"
            : head.StartsWith((ReadOnlySpan<byte>)[0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0]) ? "xz"
            : head.StartsWith((ReadOnlySpan<byte>)[0x1f, 0x9d]) ? "compress (.Z)"
            : null;
    }

    /// <summary>The bytes after any leading skippable frames; empty when those run past the end of <paramref name="head"/>.</summary>
    private static ReadOnlySpan<byte> PastSkippableFrames(ReadOnlySpan<byte> head)
    {
        while (NeedsLookAhead(head))
        {
            if (head.Length < 8)
                return [];
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
            if (length > (uint)(head.Length - 8))
                return [];
            head = head[(8 + (int)length)..];
        }
        return head;
    }

    /// <summary>The compression of a stored blob, from its first bytes.</summary>
    public static Oci.Compression Detect(Storage.ContentStore store, Digest blob)
    {
        using var s = store.OpenRead(blob);
        var head = LayerStreams.ReadHead(s, out int n);
        return Detect(head.AsSpan(0, n));
    }
}
