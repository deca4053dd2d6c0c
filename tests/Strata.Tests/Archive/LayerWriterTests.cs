using System.Security.Cryptography;
using Strata.Archive;
using Strata.Archive.Tar;
using Strata.Oci;

namespace Strata.Tests.Archive;

public class LayerWriterTests
{
    private static IEnumerable<TarEntry> Entries(long mtime)
    {
        yield return new TarEntry { Name = "etc", Type = TarEntryType.Directory, Mode = 0x1ED, MTimeSeconds = mtime };
        var data = new byte[200_000];
        new Random(9).NextBytes(data.AsSpan(0, 50_000));
        var f = new TarEntry { Name = "etc/data", Size = data.Length, Mode = 0x1A4, MTimeSeconds = mtime, MTimeNanoseconds = 5, Data = new MemoryStream(data) };
        f.Xattrs["security.capability"] = [1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        yield return f;
        yield return new TarEntry { Name = "etc/link", Type = TarEntryType.Symlink, LinkName = "data", Mode = 0x1FF, MTimeSeconds = 100 };
    }

    [Theory]
    [InlineData(Compression.Gzip, "zcat")]
    [InlineData(Compression.Zstd, "zstd -dc")]
    [InlineData(Compression.None, "cat")]
    public void DigestsMatchRealTools(Compression c, string decompress)
    {
        using var sh = new Shell();
        LayerWriteResult r;
        using (var f = File.Create(sh.P("layer")))
            r = LayerWriter.Write(Entries(1_700_000_000), f, c);
        string Sha(string cmd) => "sha256:" + sh.Run(cmd + " | sha256sum").Split(' ')[0];
        Assert.Equal(Sha("cat layer"), r.Digest.ToString());
        Assert.Equal(Sha(decompress + " layer"), r.DiffId.ToString());
        Assert.Equal(new FileInfo(sh.P("layer")).Length, r.Size);
        Assert.Equal(long.Parse(sh.Run(decompress + " layer | wc -c").Trim()), r.UncompressedSize);
        Assert.Equal(c, r.Compression);
        if (c == Compression.None)
            Assert.Equal(r.Digest, r.DiffId);
        // And GNU tar accepts the tar inside.
        Assert.Contains("etc/data", sh.Run(decompress + " layer | tar -tf -"));
    }

    [Fact]
    public void SourceDateEpochClampsMTimes()
    {
        var ms = new MemoryStream();
        var r = LayerWriter.Write(Entries(2_000_000_000), ms, Compression.None, sourceDateEpoch: 1_000);
        ms.Position = 0;
        var back = TarTestData.ReadAll(ms);
        Assert.All(back, x => Assert.Equal(0, x.Entry.MTimeNanoseconds));
        Assert.Equal([1_000, 1_000, 100], back.Select(x => x.Entry.MTimeSeconds));
        Assert.Equal(Digest.Sha256(ms.ToArray()), r.DiffId);
    }

    [Fact]
    public void HashingStreamHashesReads()
    {
        byte[] data = RandomNumberGenerator.GetBytes(100_000);
        using var h = new HashingStream(new MemoryStream(data));
        h.CopyTo(Stream.Null);
        Assert.Equal(Digest.Sha256(data), h.GetDigest());
        Assert.Equal(data.Length, h.BytesCount);
    }
}
