using System.Security.Cryptography;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Archive;

/// <summary>Strata's tar reader and writer against GNU tar: what one writes, the other reads, exactly.</summary>
public class TarInteropTests
{
    private static List<(TarEntry Entry, byte[] Data)> ReadAll(string tarFile)
    {
        using var f = File.OpenRead(tarFile);
        using var r = new TarReader(f);
        var list = new List<(TarEntry, byte[])>();
        while (r.Next() is { } e)
        {
            var ms = new MemoryStream();
            e.Data?.CopyTo(ms);
            list.Add((e, ms.ToArray()));
        }
        return list;
    }

    private static string Tree(TempDir tmp)
    {
        var src = tmp.CreateDirectory("src");
        File.WriteAllText(Path.Combine(src, "small"), "hello");
        var longDir = Path.Combine(src, new string('d', 120), new string('e', 120));
        Directory.CreateDirectory(longDir);
        File.WriteAllBytes(Path.Combine(longDir, new string('f', 200)), RandomNumberGenerator.GetBytes(70_000));
        File.CreateSymbolicLink(Path.Combine(src, "abs-link"), "/" + new string('t', 150));
        File.WriteAllText(Path.Combine(src, "caf\u00e9-\u65e5\u672c"), "unicode");
        Tool.Run("ln", Path.Combine(src, "small"), Path.Combine(src, "hardlink"));
        Tool.Run("mkfifo", Path.Combine(src, "fifo"));
        Tool.Run("setfattr", "-n", "user.bin", "-v", "0xff00fe80", Path.Combine(src, "small"));
        Tool.Run("touch", "-h", "-d", "2020-01-02 03:04:05.123456789", Path.Combine(src, "small"));
        Tool.Run("chmod", "4755", Path.Combine(src, "small"));
        return src;
    }

    [Fact]
    public void ReadsGnuPaxArchiveExactly()
    {
        Requires.Tool("setfattr");
        using var tmp = new TempDir();
        var src = Tree(tmp);
        var tar = tmp.Combine("pax.tar");
        Tool.Run("tar", "--format=posix", "--xattrs", "--xattrs-include=*", "--owner=:3000000", "--group=:3000001", "-cf", tar, "-C", src, ".");
        var entries = ReadAll(tar).ToDictionary(e => e.Entry.Name);

        // GNU tar writes whichever of the two links it meets first as the file, the other as a hard link.
        var (file, link) = entries["small"].Entry.Type == TarEntryType.Regular ? ("small", "hardlink") : ("hardlink", "small");
        var small = entries[file].Entry;
        Assert.Equal(new byte[] { 0xff, 0x00, 0xfe, 0x80 }, small.Xattrs["user.bin"]);
        Assert.Equal(3000000, small.Uid);
        Assert.Equal(3000001, small.Gid);
        Assert.Equal(123456789, small.MTimeNanoseconds);
        Assert.Equal(0x9ed, small.Mode); // 04755
        Assert.Equal("hello"u8.ToArray(), entries[file].Data);
        Assert.Equal(TarEntryType.HardLink, entries[link].Entry.Type);
        Assert.Equal(file, entries[link].Entry.LinkName);
        Assert.Equal(TarEntryType.Fifo, entries["fifo"].Entry.Type);
        Assert.Equal("/" + new string('t', 150), entries["abs-link"].Entry.LinkName);
        Assert.True(entries.ContainsKey("caf\u00e9-\u65e5\u672c"));
        var longName = $"{new string('d', 120)}/{new string('e', 120)}/{new string('f', 200)}";
        Assert.Equal(File.ReadAllBytes(Path.Combine(src, longName)), entries[longName].Data);
        Assert.Equal(".", ReadAll(tar)[0].Entry.Name);
    }

    [Fact]
    public void ReadsGnuFormatLongNamesAndBase256()
    {
        using var tmp = new TempDir();
        var src = Tree(tmp);
        var tar = tmp.Combine("gnu.tar");
        Tool.Run("tar", "--format=gnu", "--owner=:90000000", "--group=:0", "-cf", tar, "-C", src, ".");
        var entries = ReadAll(tar).ToDictionary(e => e.Entry.Name);
        var longName = $"{new string('d', 120)}/{new string('e', 120)}/{new string('f', 200)}";
        Assert.Equal(70_000, entries[longName].Data.Length);
        Assert.Equal(90000000, entries["small"].Entry.Uid);
        Assert.Equal("/" + new string('t', 150), entries["abs-link"].Entry.LinkName);
    }

    [Theory]
    [InlineData("gnu", null)]
    [InlineData("posix", "0.0")]
    [InlineData("posix", "0.1")]
    [InlineData("posix", "1.0")]
    public void ReadsSparseFiles(string format, string? version)
    {
        using var tmp = new TempDir();
        var src = tmp.CreateDirectory("src");
        var sparse = Path.Combine(src, "sparse");
        using (var f = File.Create(sparse))
        {
            f.SetLength(8 << 20);
            f.Position = 4 << 20;
            f.Write(RandomNumberGenerator.GetBytes(5000));
            f.Position = (8 << 20) - 10;
            f.Write("0123456789"u8);
        }
        var tar = tmp.Combine("sparse.tar");
        var args = new List<string> { $"--format={format}", "--sparse" };
        if (version is not null) args.Add($"--sparse-version={version}");
        args.AddRange(["-cf", tar, "-C", src, "sparse"]);
        Tool.Run("tar", [.. args]);
        Assert.True(new FileInfo(tar).Length < 1 << 20, "GNU tar did not write a sparse archive");
        var (entry, data) = Assert.Single(ReadAll(tar));
        Assert.Equal("sparse", entry.Name);
        Assert.Equal(TarEntryType.Regular, entry.Type);
        Assert.Equal(8 << 20, entry.Size);
        Assert.NotNull(entry.SparseMap);
        Assert.Equal(File.ReadAllBytes(sparse), data);
    }

    [Fact]
    public void GnuTarReadsWhatStrataWrites()
    {
        Requires.Tool("getfattr");
        using var tmp = new TempDir();
        var tar = tmp.Combine("strata.tar");
        var longName = new string('x', 90) + "/" + new string('y', 150);
        var content = RandomNumberGenerator.GetBytes(10_000);
        using (var f = File.Create(tar))
        using (var w = new TarWriter(f))
        {
            w.Write(new TarEntry { Name = "dir", Type = TarEntryType.Directory, Mode = 0x1ed, MTimeSeconds = 1_600_000_000 });
            var file = new TarEntry { Name = "dir/file", Mode = 0x9ed, Size = content.Length, Uid = 3_000_000, Gid = 7, MTimeSeconds = 1_600_000_000, MTimeNanoseconds = 5 };
            file.Xattrs["user.bin"] = [0xff, 0x00, 0xfe, 0x80];
            w.Write(file, new MemoryStream(content));
            w.Write(new TarEntry { Name = longName[..90], Type = TarEntryType.Directory, Mode = 0x1ed });
            w.Write(new TarEntry { Name = longName, Size = 3, Mode = 0x1a4 }, new MemoryStream("abc"u8.ToArray()));
            w.Write(new TarEntry { Name = "link", Type = TarEntryType.Symlink, LinkName = "/" + new string('z', 200), Mode = 0x1ff });
            w.Write(new TarEntry { Name = "hard", Type = TarEntryType.HardLink, LinkName = "dir/file" });
            w.Write(new TarEntry { Name = "null", Type = TarEntryType.CharDevice, DevMajor = 1, DevMinor = 3, Mode = 0x1b6 });
        }
        var listing = Tool.Run("tar", "-tvf", tar, "--numeric-owner").Stdout;
        Assert.Contains("3000000/7", listing);
        Assert.Contains(longName, listing);
        Assert.Contains("1,3", listing);
        var outDir = tmp.CreateDirectory("out");
        Tool.Run("tar", "-xpf", tar, "--xattrs", "--xattrs-include=*", "-C", outDir);
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(outDir, "dir", "file")));
        Assert.Contains("user.bin=0xff00fe80", Tool.Run("getfattr", "-e", "hex", "-n", "user.bin", Path.Combine(outDir, "dir", "file")).Stdout);
        Assert.Equal("abc", File.ReadAllText(Path.Combine(outDir, longName)));
    }

    [Fact]
    public void WriterIsDeterministicAndRoundTrips()
    {
        static byte[] Write()
        {
            var ms = new MemoryStream();
            using (var w = new TarWriter(ms, leaveOpen: true))
            {
                for (int i = 0; i < 50; i++)
                {
                    var e = new TarEntry { Name = $"d/{new string('n', i * 7)}{i}", Size = i, Mode = i, Uid = i * 100_000, Gid = i, MTimeSeconds = i * 1000, MTimeNanoseconds = i };
                    e.Xattrs[$"user.k{i}"] = [(byte)i, 0, 255];
                    w.Write(e, new MemoryStream(new byte[i]));
                }
            }
            return ms.ToArray();
        }
        var a = Write();
        Assert.Equal(a, Write());
        using var r = new TarReader(new MemoryStream(a));
        int n = 0;
        while (r.Next() is { } e)
        {
            Assert.Equal($"d/{new string('n', n * 7)}{n}", e.Name);
            Assert.Equal(n * 100_000, e.Uid);
            Assert.Equal(n, e.MTimeNanoseconds);
            Assert.Equal(new byte[] { (byte)n, 0, 255 }, e.Xattrs[$"user.k{n}"]);
            n++;
        }
        Assert.Equal(50, n);
    }

    [Fact]
    public void TruncatedAndCorruptArchivesAreClearErrors()
    {
        using var tmp = new TempDir();
        var src = tmp.CreateDirectory("src");
        File.WriteAllBytes(Path.Combine(src, "a"), new byte[5000]);
        File.WriteAllBytes(Path.Combine(src, "b"), new byte[5000]);
        var tar = tmp.Combine("t.tar");
        Tool.Run("tar", "-cf", tar, "-C", src, "a", "b");
        var bytes = File.ReadAllBytes(tar);

        var midData = Assert.Throws<StrataException>(() => ReadAllBytes(bytes[..2000]));
        Assert.Contains("truncated", midData.Message);
        var midHeader = Assert.Throws<StrataException>(() => ReadAllBytes(bytes[..(512 * 11 + 100)]));
        Assert.Equal(ErrorKind.InvalidContent, midHeader.Kind);

        var corrupt = (byte[])bytes.Clone();
        corrupt[512 * 11 + 10] ^= 0x55; // second header's name: checksum no longer matches
        var bad = Assert.Throws<StrataException>(() => ReadAllBytes(corrupt));
        Assert.Contains("invalid tar header", bad.Message);
    }

    private static void ReadAllBytes(byte[] tar)
    {
        using var r = new TarReader(new MemoryStream(tar));
        while (r.Next() is { } e) e.Data?.CopyTo(Stream.Null);
    }
}
