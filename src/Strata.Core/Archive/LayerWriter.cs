using Strata.Archive.Compression;
using Strata.Archive.Tar;
using Strata.Oci;

namespace Strata.Archive;

public sealed record LayerWriteResult(Digest DiffId, long UncompressedSize, Oci.Compression Compression);

/// <summary>
/// Writes a layer: entries -> tar -> hash (DiffID) -> compressor -> output, in one streaming pass. The
/// compressed digest is the caller's (the content store's writer hashes what it is given).
/// </summary>
public static class LayerWriter
{
    public static LayerWriteResult Write(IEnumerable<TarEntry> entries, Stream output, Oci.Compression compression, long? sourceDateEpoch = null)
    {
        using var compressor = LayerStreams.OpenCompressor(output, compression, leaveOpen: true);
        using var hashing = new HashingStream(compressor);
        using (var tar = new TarWriter(hashing, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                if (sourceDateEpoch is { } epoch && entry.MTimeSeconds >= epoch)
                {
                    entry.MTimeSeconds = epoch;
                    entry.MTimeNanoseconds = 0;
                }
                tar.Write(entry, entry.Data);
            }
        }
        hashing.Flush();
        return new LayerWriteResult(hashing.GetDigest(), hashing.BytesWritten, compression);
    }
}
