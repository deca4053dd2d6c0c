using Strata.Archive.Compression;
using Strata.Errors;
using Strata.Oci;

namespace Strata.Tests.Archive;

public class CompressionTests
{
    private static byte[] Decompress(byte[] blob, out Compression detected)
    {
        using var s = LayerStreams.OpenDecompressed(new TarReaderTests.NonSeekable(blob), out detected);
        var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    private static byte[] Payload(int seed)
    {
        var rng = new Random(seed);
        var data = new byte[300_000];
        rng.NextBytes(data.AsSpan(0, 100_000));   // part incompressible, part zeros
        return data;
    }

    [Theory]
    [InlineData(new byte[] { 0x1f, 0x8b, 8, 0 }, Compression.Gzip)]
    [InlineData(new byte[] { 0x28, 0xb5, 0x2f, 0xfd }, Compression.Zstd)]
    [InlineData(new byte[] { 0x28, 0xb5, 0x2f }, Compression.None)]
    [InlineData(new byte[] { (byte)'d', (byte)'i', (byte)'r' }, Compression.None)]
    [InlineData(new byte[0], Compression.None)]
    public void Detects(byte[] head, Compression expected) => Assert.Equal(expected, CompressionDetector.Detect(head));

    [Theory]
    [InlineData("gzip -c", Compression.Gzip)]
    [InlineData("gzip -c -n -9", Compression.Gzip)]
    [InlineData("pigz -c -p 4 -b 128", Compression.Gzip)]
    [InlineData("zstd -q -c", Compression.Zstd)]
    [InlineData("cat", Compression.None)]
    public void DecompressesRealTools(string tool, Compression expected)
    {
        using var sh = new Shell();
        byte[] data = Payload(1);
        File.WriteAllBytes(sh.P("p"), data);
        sh.Run($"touch -d @1000000 p && {tool} p > p.out");
        Assert.Equal(data, Decompress(File.ReadAllBytes(sh.P("p.out")), out var detected));
        Assert.Equal(expected, detected);
    }

    [Fact]
    public void ConcatenatedGzipMembers()
    {
        using var sh = new Shell();
        byte[] a = Payload(2), b = Payload(3);
        File.WriteAllBytes(sh.P("a"), a);
        File.WriteAllBytes(sh.P("b"), b);
        File.WriteAllBytes(sh.P("empty"), []);
        // Named members (FNAME), an empty member, and a pigz member in the middle.
        sh.Run("gzip -c a > x.gz && gzip -c empty >> x.gz && pigz -c b >> x.gz && gzip -c -n a >> x.gz");
        Assert.Equal([.. a, .. b, .. a], Decompress(File.ReadAllBytes(sh.P("x.gz")), out _));
    }

    [Fact]
    public void GzipTrailingZerosAreTolerated()
    {
        using var sh = new Shell();
        File.WriteAllBytes(sh.P("a"), Payload(4));
        sh.Run("gzip -c a > x.gz && head -c 1000 /dev/zero >> x.gz");
        Assert.Equal(Payload(4), Decompress(File.ReadAllBytes(sh.P("x.gz")), out _));
    }

    [Fact]
    public void TruncatedGzipIsInvalid()
    {
        using var sh = new Shell();
        File.WriteAllBytes(sh.P("a"), Payload(5));
        sh.Run("gzip -c a > x.gz");
        byte[] gz = File.ReadAllBytes(sh.P("x.gz"));
        foreach (int cut in new[] { 3, 12, gz.Length / 2, gz.Length - 8, gz.Length - 1 })
        {
            var ex = Assert.Throws<StrataException>(() => Decompress(gz[..cut], out _));
            Assert.Equal(ErrorKind.InvalidContent, ex.Kind);
            Assert.StartsWith("corrupt or truncated gzip stream: ", ex.Message);
        }
    }

    [Fact]
    public void CorruptGzipIsInvalid()
    {
        using var sh = new Shell();
        File.WriteAllBytes(sh.P("a"), Payload(6));
        sh.Run("gzip -c a > x.gz");
        byte[] gz = File.ReadAllBytes(sh.P("x.gz"));
        foreach (int at in new[] { 30, gz.Length / 2, gz.Length - 6 })
        {
            byte[] bad = (byte[])gz.Clone();
            bad[at] ^= 0x55;
            var ex = Assert.Throws<StrataException>(() => Decompress(bad, out _));
            Assert.Equal(ErrorKind.InvalidContent, ex.Kind);
            Assert.StartsWith("corrupt or truncated gzip stream: ", ex.Message);
        }
        byte[] garbage = [.. gz, (byte)'X'];
        Assert.Throws<StrataException>(() => Decompress(garbage, out _));
    }

    [Fact]
    public void TruncatedOrCorruptZstdIsInvalid()
    {
        using var sh = new Shell();
        File.WriteAllBytes(sh.P("a"), Payload(7));
        sh.Run("zstd -q -c a > x.zst");
        byte[] zst = File.ReadAllBytes(sh.P("x.zst"));
        byte[] corrupt = (byte[])zst.Clone();
        corrupt[zst.Length / 2] ^= 0x55;
        corrupt[zst.Length / 2 + 1] ^= 0x55;
        foreach (byte[] bad in new[] { zst[..6], zst[..(zst.Length / 2)], zst[..^1], corrupt })
        {
            var ex = Assert.Throws<StrataException>(() => Decompress(bad, out _));
            Assert.Equal(ErrorKind.InvalidContent, ex.Kind);
            Assert.StartsWith("corrupt or truncated zstd stream: ", ex.Message);
        }
    }

    [Theory]
    [InlineData(Compression.Gzip, "gzip -dc")]
    [InlineData(Compression.Zstd, "zstd -dc")]
    public void CompressorOutputIsReadByRealTools(Compression c, string tool)
    {
        using var sh = new Shell();
        byte[] data = Payload(8);
        using (var f = File.Create(sh.P("x")))
        using (var z = LayerStreams.OpenCompressor(f, c, leaveOpen: false))
            z.Write(data);
        sh.Run($"{tool} x > y");
        Assert.Equal(data, File.ReadAllBytes(sh.P("y")));
    }

    /// <summary>A zstd skippable frame (magic 0x184D2A50 + n, little-endian length, payload) that zstd and lz4 ignore.</summary>
    private static byte[] Skippable(int n, int length) =>
        [(byte)(0x50 + n), 0x2a, 0x4d, 0x18, .. BitConverter.GetBytes(length), .. new byte[length]];

    // libarchive's test_compat_zstd_2 opens with a skippable frame: bsdtar and containerd both take it as zstd,
    // and the decoder skips skippable frames wherever they are, a long one too.
    [Theory]
    [InlineData(0, 16)]
    [InlineData(15, 0)]
    [InlineData(3, 200_000)]
    public void ZstdStartingWithASkippableFrame(int n, int length)
    {
        using var sh = new Shell();
        File.WriteAllBytes(sh.P("a"), Payload(9));
        sh.Run("zstd -q -c a > x.zst");
        byte[] zst = File.ReadAllBytes(sh.P("x.zst"));
        byte[] blob = [.. Skippable(n, length), .. Skippable(1, 5), .. zst, .. Skippable(2, 3), .. zst];
        Assert.Equal(Compression.Zstd, CompressionDetector.Detect(blob));
        Assert.Equal([.. Payload(9), .. Payload(9)], Decompress(blob, out var detected));
        Assert.Equal(Compression.Zstd, detected);
        // The reference decoder agrees that this is one zstd stream.
        File.WriteAllBytes(sh.P("y.zst"), blob);
        sh.Run("zstd -q -dc y.zst > y && cat a a | cmp - y");
    }

    // lz4 frames share the skippable frame: what follows decides (libarchive's bidders look 64 KiB ahead).
    [Fact]
    public void Lz4StartingWithASkippableFrameIsNotZstd()
    {
        byte[] lz4 = [.. Skippable(0, 8), 0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7];
        Assert.Equal(Compression.None, CompressionDetector.Detect(lz4));
        Assert.Equal("lz4", CompressionDetector.Unreadable(lz4));
        Assert.Null(CompressionDetector.Unreadable(Skippable(0, 8)));
    }
}
