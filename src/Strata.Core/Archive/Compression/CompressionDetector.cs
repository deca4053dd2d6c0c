using Strata.Oci;

namespace Strata.Archive.Compression;

/// <summary>Tells compression by magic bytes: media types lie, the bytes do not.</summary>
public static class CompressionDetector
{
    public const int MagicLength = 4;

    public static Oci.Compression Detect(ReadOnlySpan<byte> head) => head switch
    {
        [0x1f, 0x8b, ..] => Oci.Compression.Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Oci.Compression.Zstd,
        _ => Oci.Compression.None,
    };
}
