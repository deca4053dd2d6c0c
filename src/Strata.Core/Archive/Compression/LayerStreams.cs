using System.IO.Compression;

namespace Strata.Archive.Compression;

/// <summary>Opens layer blobs for reading (compression sniffed from the bytes) and for writing.</summary>
internal static class LayerStreams
{
    /// <summary>zlib level 6: measured on 64 MiB of mixed data, 1.4x the time of level 1 for 6% smaller output.</summary>
    public const int GzipLevel = 6;
    public const int ZstdLevel = 3;

    /// <summary>
    /// The uncompressed tar inside <paramref name="raw"/>, which need not be seekable: the first bytes are
    /// peeked and replayed. Corrupt or truncated compressed data surfaces as StrataException(InvalidContent).
    /// </summary>
    public static Stream OpenDecompressed(Stream raw, out Oci.Compression detected, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(raw);
        byte[] head = ReadHead(raw, out int n);
        detected = CompressionDetector.Detect(head.AsSpan(0, n));
        var source = new PrefixedStream(head[..n], raw, leaveOpen);
        return detected switch
        {
            Oci.Compression.Gzip => new GzipReadStream(source, leaveOpen: false),
            Oci.Compression.Zstd => new GuardedReadStream(
                new ZstdSharp.DecompressionStream(source, checkEndOfStream: true, leaveOpen: false), "zstd"),
            _ => source,
        };
    }

    /// <summary>The first bytes of <paramref name="raw"/>: enough to decide, past any skippable frames (bounded).</summary>
    internal static byte[] ReadHead(Stream raw, out int length)
    {
        byte[] head = new byte[CompressionDetector.HeadLength];
        length = raw.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (!CompressionDetector.NeedsLookAhead(head.AsSpan(0, length)))
            return head;
        Array.Resize(ref head, CompressionDetector.MaxLookAhead);
        length += raw.ReadAtLeast(head.AsSpan(length), head.Length - length, throwOnEndOfStream: false);
        return head;
    }

    /// <summary>A stream that compresses into <paramref name="output"/>; dispose it to flush the final frame.</summary>
    public static Stream OpenCompressor(Stream output, Oci.Compression compression, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(output);
        return compression switch
        {
            Oci.Compression.Gzip => new GZipStream(output, new ZLibCompressionOptions { CompressionLevel = GzipLevel }, leaveOpen),
            Oci.Compression.Zstd => new ZstdSharp.CompressionStream(output, ZstdLevel, leaveOpen: leaveOpen),
            Oci.Compression.None => leaveOpen ? new NonClosingStream(output) : output,
            _ => throw new ArgumentOutOfRangeException(nameof(compression)),
        };
    }
}
