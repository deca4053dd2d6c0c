using Strata.Archive.Tar;

namespace Strata.Tests.Archive;

public class TarReaderPaxTests
{
    [Fact]
    public void GlobalHeadersAreIgnoredAndRootIsDot()
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, leaveOpen: true))
        {
            w.Write(new TarEntry { Name = "a", MTimeSeconds = 7, MTimeNanoseconds = 9 });
            w.Write(new TarEntry { Name = ".", Type = TarEntryType.Directory, Mode = 0x1ED });
        }
        byte[] tar = ms.ToArray();
        // Turn the 'x' header of "a" into a 'g' header: its records must then not reach "a".
        Assert.Equal((byte)'x', tar[156]);
        tar[156] = (byte)'g';
        int sum = 0;
        for (int i = 0; i < 512; i++)
            sum += i is >= 148 and < 156 ? ' ' : tar[i];
        System.Text.Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(tar, 148);
        var all = TarTestData.ReadAll(new MemoryStream(tar));
        Assert.Equal(["a", "."], all.Select(x => x.Entry.Name));
        Assert.Equal((7L, 0), (all[0].Entry.MTimeSeconds, all[0].Entry.MTimeNanoseconds));
        Assert.Equal(TarEntryType.Directory, all[1].Entry.Type);
    }
}
