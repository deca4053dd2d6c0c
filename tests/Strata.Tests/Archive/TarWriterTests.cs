using System.Text;
using Strata.Archive.Tar;
using Strata.Errors;

namespace Strata.Tests.Archive;

public class TarWriterTests
{
    private static readonly string LongDir = string.Join('/', Enumerable.Repeat("directory-" + new string('d', 20), 7));   // 216 chars

    private static List<(TarEntry Entry, byte[]? Data)> SampleEntries()
    {
        TarEntry E(string name, TarEntryType type, int mode) => new()
        {
            Name = name, Type = type, Mode = mode, Uid = 1000, Gid = 1000, MTimeSeconds = 1_600_000_000,
        };
        var file = E("d/file", TarEntryType.Regular, 0x1ED);
        file.Xattrs["user.bin"] = [0xff, 0x00, 0xfe, 0x80];
        file.Xattrs["user.nl"] = "a\nb=c"u8.ToArray();
        file.MTimeNanoseconds = 123456789;
        var big = E("d/bigid", TarEntryType.Regular, 0x1A4);
        big.Uid = 3000000;
        big.Gid = 3000001;
        var named = E("d/named", TarEntryType.Regular, 0x1A4);
        named.UserName = "alice";
        named.GroupName = "staff";
        var sym = E("d/sym", TarEntryType.Symlink, 0x1FF);
        sym.LinkName = "/" + new string('t', 150);
        var hard = E("d/hard", TarEntryType.HardLink, 0x1ED);
        hard.LinkName = "d/file";
        var chr = E("d/null", TarEntryType.CharDevice, 0x1B6);
        (chr.DevMajor, chr.DevMinor) = (1, 3);
        var blk = E("d/blk", TarEntryType.BlockDevice, 0x1B0);
        (blk.DevMajor, blk.DevMinor) = (8, 1);
        return
        [
            (E("d", TarEntryType.Directory, 0x3FF), null),
            (E("d/sgid", TarEntryType.Directory, 0xDED), null),         // 06755
            (file, "hello\n"u8.ToArray()),
            (big, new byte[1000]),
            (named, []),
            (sym, null),
            (hard, null),
            (E("d/fifo", TarEntryType.Fifo, 0x1A4), null),
            (chr, null),
            (blk, null),
            (E(LongDir, TarEntryType.Directory, 0x1ED), null),
            (E(LongDir + "/" + new string('f', 90), TarEntryType.Regular, 0x1A4), "long\n"u8.ToArray()),
            (E("d/\u00fcnic\u00f6de-" + new string('\u00e9', 120), TarEntryType.Regular, 0x1A4), "u\n"u8.ToArray()),
        ];
    }

    private static byte[] WriteTar(IEnumerable<(TarEntry Entry, byte[]? Data)> entries)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, leaveOpen: true))
        {
            foreach (var (e, data) in entries)
            {
                e.Size = data?.Length ?? 0;
                w.Write(e, data == null ? null : new MemoryStream(data));
            }
        }
        return ms.ToArray();
    }

    [Fact]
    public void GnuTarListsAndExtractsOutput()
    {
        using var sh = new Shell();
        var entries = SampleEntries();
        File.WriteAllBytes(sh.P("w.tar"), WriteTar(entries));

        string listing = sh.Run("tar -tvv --numeric-owner --full-time -f w.tar");
        string[] lines = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(entries.Count, lines.Length);
        Assert.Contains("drwxrwxrwt 1000/1000", lines[0]);
        Assert.Contains("drwsr-sr-x 1000/1000", lines[1]);
        Assert.Contains("2020-09-13 12:26:40.123456789 d/file", lines[2]);
        Assert.Contains("3000000/3000001", lines[3]);
        Assert.Contains("d/sym -> /ttt", lines[5]);
        Assert.Contains("d/hard link to d/file", lines[6]);
        Assert.Matches(@"^crw-rw-rw- 1000/1000 +1,3 ", lines[8]);
        Assert.Matches(@"^brw-rw---- 1000/1000 +8,1 ", lines[9]);
        Assert.EndsWith(LongDir + "/", lines[10]);
        Assert.EndsWith("\u00e9\u00e9", lines[12]);
        Assert.Contains("alice/staff", sh.Run("tar -tvf w.tar d/named"));

        // Extract as root with xattrs, then archive the tree again with GNU tar and compare what we read back.
        sh.Run("mkdir x && tar -xp --xattrs --xattrs-include='*' --numeric-owner -f w.tar -C x");
        Assert.Contains("user.bin=0xff00fe80", sh.Run("getfattr -e hex -n user.bin x/d/file"));
        sh.Run("cd x && tar --format=posix --xattrs --xattrs-include='*' --numeric-owner -cf ../again.tar d " + LongDir.Split('/')[0]);
        var again = TarTestData.ReadFile(sh.P("again.tar"));
        foreach (var (e, data) in entries)
        {
            var (a, aData) = again.Single(x => x.Entry.Name == e.Name);
            if (e.Type is TarEntryType.HardLink || a.Type is TarEntryType.HardLink)
                continue;   // which of two linked names comes first depends on directory order
            Assert.Equal((e.Type, e.Mode, e.Uid, e.Gid, e.LinkName, e.DevMajor, e.DevMinor),
                (a.Type, a.Mode, a.Uid, a.Gid, a.LinkName, a.DevMajor, a.DevMinor));
            if (e.Type != TarEntryType.Symlink)
                Assert.Equal((e.MTimeSeconds, e.MTimeNanoseconds), (a.MTimeSeconds, a.MTimeNanoseconds));
            if (data != null)
                Assert.Equal(data, aData);
            Assert.Equal(e.Xattrs.OrderBy(x => x.Key), a.Xattrs.OrderBy(x => x.Key));
        }
    }

    [Fact]
    public void BsdtarReadsOutput()
    {
        using var sh = new Shell();
        var entries = SampleEntries();
        File.WriteAllBytes(sh.P("w.tar"), WriteTar(entries));
        var names = sh.Run("bsdtar -tf w.tar").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(entries.Select(e => e.Entry.Type == TarEntryType.Directory ? e.Entry.Name + "/" : e.Entry.Name), names);
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        byte[] a = WriteTar(SampleEntries());
        byte[] b = WriteTar(SampleEntries());
        Assert.Equal(a, b);
        Assert.Equal(0, a.Length % 512);
    }

    [Fact]
    public void RandomEntriesRoundTrip()
    {
        var rng = new Random(12345);
        var entries = new List<(TarEntry Entry, byte[]? Data)>();
        string[] parts = ["a", "bb", "\u00e9t\u00e9", "\u65e5\u672c", new string('x', 60), "sp ace", "d.o.t"];
        TarEntryType[] types = [TarEntryType.Regular, TarEntryType.Directory, TarEntryType.Symlink, TarEntryType.HardLink,
            TarEntryType.CharDevice, TarEntryType.BlockDevice, TarEntryType.Fifo];
        for (int i = 0; i < 300; i++)
        {
            var type = types[rng.Next(types.Length)];
            string name = string.Join('/', Enumerable.Range(0, rng.Next(1, 7)).Select(_ => parts[rng.Next(parts.Length)])) + i;
            var e = new TarEntry
            {
                Name = name, Type = type, Mode = rng.Next(0x1000),
                Uid = rng.Next(3) == 0 ? rng.Next() : rng.Next(70000), Gid = rng.Next(3) == 0 ? rng.Next() : rng.Next(70000),
                MTimeSeconds = rng.Next(3) == 0 ? rng.NextInt64(-1L << 40, 1L << 40) : rng.Next(),
                MTimeNanoseconds = rng.Next(2) == 0 ? 0 : rng.Next(1_000_000_000),
                UserName = rng.Next(2) == 0 ? null : "u" + rng.Next(1000),
                GroupName = rng.Next(4) == 0 ? "gr\u00fcn" : null,
            };
            if (type is TarEntryType.Symlink or TarEntryType.HardLink)
                e.LinkName = string.Join('/', Enumerable.Range(0, rng.Next(1, 12)).Select(_ => parts[rng.Next(parts.Length)]));
            if (type is TarEntryType.CharDevice or TarEntryType.BlockDevice)
                (e.DevMajor, e.DevMinor) = (rng.Next(4096), rng.Next(1 << 20));
            for (int x = rng.Next(-2, 3); x > 0; x--)
            {
                var v = new byte[rng.Next(0, 300)];
                rng.NextBytes(v);
                e.Xattrs["user.k" + x + parts[rng.Next(parts.Length)]] = v;
            }
            byte[]? data = null;
            if (type == TarEntryType.Regular)
            {
                data = new byte[rng.Next(0, 3) == 0 ? rng.Next(0, 5000) : rng.Next(0, 600)];
                rng.NextBytes(data);
            }
            entries.Add((e, data));
        }
        var back = TarTestData.ReadAll(new MemoryStream(WriteTar(entries)));
        Assert.Equal(entries.Count, back.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            var (e, data) = entries[i];
            var (a, aData) = back[i];
            Assert.Equal(
                (e.Name, e.Type, e.Mode, e.Uid, e.Gid, e.MTimeSeconds, e.MTimeNanoseconds, e.UserName, e.GroupName, e.LinkName, e.DevMajor, e.DevMinor),
                (a.Name, a.Type, a.Mode, a.Uid, a.Gid, a.MTimeSeconds, a.MTimeNanoseconds, a.UserName, a.GroupName, a.LinkName, a.DevMajor, a.DevMinor));
            Assert.Equal(e.Xattrs.OrderBy(x => x.Key, StringComparer.Ordinal), a.Xattrs.OrderBy(x => x.Key, StringComparer.Ordinal));
            Assert.Equal(data, aData);
        }
    }

    [Fact]
    public void DataMustMatchSize()
    {
        using var w = new TarWriter(new MemoryStream());
        var ex = Assert.Throws<StrataException>(() => w.Write(new TarEntry { Name = "f", Size = 10 }, new MemoryStream(new byte[5])));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Throws<StrataException>(() => w.Write(new TarEntry { Name = "g", Size = 3 }, new MemoryStream(new byte[5])));
        Assert.Throws<StrataException>(() => w.Write(new TarEntry { Name = "h", Size = 3 }));
    }

    [Fact]
    public void PaxHeaderNameIsStable()
    {
        var e = new TarEntry { Name = "x/" + new string('n', 120), MTimeSeconds = 5 };
        byte[] tar = WriteTar([(e, [])]);
        Assert.Equal((byte)'x', tar[156]);
        Assert.StartsWith("PaxHeaders.0/nnn", Encoding.ASCII.GetString(tar, 0, 100).TrimEnd('\0'));
        Assert.Equal(100, Encoding.ASCII.GetString(tar, 0, 100).TrimEnd('\0').Length);
    }
}
