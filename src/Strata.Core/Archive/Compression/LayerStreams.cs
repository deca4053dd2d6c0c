using System.IO.Compression;
using ZstdSharp;

namespace Strata.Archive.Compression;

/// <summary>Opens the plain tar inside a layer blob, and compressors for writing one.</summary>
public static class LayerStreams
{
    /// <summary>
    /// Sniffs the first bytes (without needing a seekable stream) and returns the uncompressed tar.
    /// Decoder failures surface as StrataException(InvalidContent), not as raw InvalidDataException.
    /// </summary>
    public static Stream OpenDecompressed(Stream raw, out Oci.Compression detected, bool leaveOpen = false)
    {
        var head = new byte[CompressionDetector.MagicLength];
        int n = raw.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        detected = CompressionDetector.Detect(head.AsSpan(0, n));
        var whole = new PrefixedStream(head.AsMemory(0, n), raw, leaveOpen);
        return detected switch
        {
            Oci.Compression.Gzip => new DecoderErrorStream(new GZipStream(whole, CompressionMode.Decompress), "gzip"),
            Oci.Compression.Zstd => new DecoderErrorStream(new DecompressionStream(whole, 1 << 17), "zstd"),
            _ => whole,
        };
    }

    /// <summary>A compressing stream over output; gzip at zlib's default level, zstd at level 3.</summary>
    public static Stream OpenCompressor(Stream output, Oci.Compression compression, bool leaveOpen) => compression switch
    {
        Oci.Compression.Gzip => new GZipStream(output, new ZLibCompressionOptions { CompressionLevel = 6 }, leaveOpen),
        Oci.Compression.Zstd => new CompressionStream(output, 3, 1 << 17, leaveOpen),
        _ => new PassThroughStream(output, leaveOpen),
    };
}
