using System.IO.Compression;
using System.Security.Cryptography;
using Strata.Archive;
using Strata.Archive.Compression;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Oci;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Archive;

public class CompressionTests
{
    private static byte[] Decompress(byte[] data, out Compression detected)
    {
        using var s = LayerStreams.OpenDecompressed(new MemoryStream(data), out detected);
        var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    [Fact]
    public void ConcatenatedGzipMembersAreOneStream()
    {
        var ms = new MemoryStream();
        foreach (var part in new[] { "first "u8.ToArray(), "second"u8.ToArray() })
        {
            using var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true);
            gz.Write(part);
        }
        Assert.Equal("first second"u8.ToArray(), Decompress(ms.ToArray(), out var c));
        Assert.Equal(Compression.Gzip, c);
    }

    [Fact]
    public void CorruptGzipAndTruncatedZstdAreInvalidContent()
    {
        var data = RandomNumberGenerator.GetBytes(200_000);
        var gz = new MemoryStream();
        using (var s = LayerStreams.OpenCompressor(gz, Compression.Gzip, leaveOpen: true)) s.Write(data);
        var bad = gz.ToArray();
        bad[bad.Length / 2] ^= 0xff;
        bad[bad.Length / 2 + 1] ^= 0xff;
        Assert.Equal(ErrorKind.InvalidContent, Assert.Throws<StrataException>(() => Decompress(bad, out _)).Kind);

        var zs = new MemoryStream();
        using (var s = LayerStreams.OpenCompressor(zs, Compression.Zstd, leaveOpen: true)) s.Write(data);
        var truncated = zs.ToArray()[..(int)(zs.Length / 2)];
        var e = Assert.Throws<StrataException>(() => Decompress(truncated, out _));
        Assert.Contains("zstd", e.Message);
    }

    [Theory]
    [InlineData(Compression.Gzip, "zcat")]
    [InlineData(Compression.Zstd, "zstdcat")]
    [InlineData(Compression.None, "cat")]
    public void LayerWriterDigestsMatchTheTools(Compression compression, string decompressor)
    {
        using var tmp = new TempDir();
        var entries = Enumerable.Range(0, 20).Select(i => new TarEntry
        {
            Name = $"f{i}",
            Size = i * 1000,
            Mode = 0x1a4,
            Data = new MemoryStream(RandomNumberGenerator.GetBytes(i * 1000)),
        }).ToList();
        var layer = tmp.Combine("layer");
        LayerWriteResult result;
        using (var f = File.Create(layer)) result = LayerWriter.Write(entries, f, compression);
        var tar = tmp.Combine("layer.tar");
        Tool.Run("sh", "-c", $"{decompressor} < {layer} > {tar}");
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tar))), result.DiffId.ToString());
        Assert.Equal(new FileInfo(tar).Length, result.UncompressedSize);
        Assert.Contains("f19", Tool.Run("tar", "-tf", tar).Stdout);
    }
}
