using System.Text;
using Strata.Archive.Tar;

namespace Strata.Tests.Archive;

public class TarHeaderTests
{
    [Theory]
    [InlineData(new byte[] { (byte)'0', (byte)'7', (byte)'5', (byte)'5', 0, 0, 0, 0 }, 493L)]
    [InlineData(new byte[] { (byte)' ', (byte)' ', (byte)'1', (byte)'7', (byte)' ', 0, 0, 0 }, 15L)]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, 0L)]
    [InlineData(new byte[] { 0x80, 0, 0, 0, 0, 0x2d, 0xc6, 0xc0 }, 3000000L)]
    [InlineData(new byte[] { 0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0 }, 8589934592L)]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe }, -2L)]
    public void ParsesNumbers(byte[] field, long expected)
    {
        Assert.True(TarHeader.TryParseNumber(field, out long v));
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData("0758    ")]
    [InlineData("07 5    ")]
    [InlineData("abc     ")]
    public void RejectsBadNumbers(string field) => Assert.False(TarHeader.TryParseNumber(Encoding.ASCII.GetBytes(field), out _));

    [Fact]
    public void Base256RoundTrips()
    {
        Span<byte> field = stackalloc byte[12];
        foreach (long v in new[] { 0L, 1L << 40, long.MaxValue, -1L, -12345L })
        {
            TarHeader.WriteBase256(field, v);
            Assert.True(TarHeader.TryParseNumber(field, out long back));
            Assert.Equal(v, back);
        }
    }

    [Fact]
    public void UstarPrefixSplitMatchesGnuTar()
    {
        using var sh = new Shell();
        string dir = string.Join('/', Enumerable.Repeat("abcdefghijklmnopqrstuvwxy", 7));   // 181 chars
        sh.Run($"mkdir -p {dir} && touch {dir}/file-with-a-name && tar --format=ustar --no-recursion -cf g.tar {dir}/file-with-a-name");
        byte[] gnu = File.ReadAllBytes(sh.P("g.tar"));
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, leaveOpen: true))
            w.Write(new TarEntry { Name = dir + "/file-with-a-name" });
        byte[] ours = ms.ToArray();
        Assert.Equal(gnu.AsSpan(0, 100).ToArray(), ours.AsSpan(0, 100).ToArray());
        Assert.Equal(gnu.AsSpan(345, 155).ToArray(), ours.AsSpan(345, 155).ToArray());
        Assert.NotEqual(0, ours[345]);
    }
}
