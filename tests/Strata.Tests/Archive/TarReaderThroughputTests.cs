using System.Diagnostics;
using Strata.Archive.Tar;

namespace Strata.Tests.Archive;

[CollectionDefinition(DisableParallelization = true)]
public sealed class ThroughputCollection;

/// <summary>Runs alone, so the tar processes other tests spawn do not skew the measurement.</summary>
[Collection(typeof(ThroughputCollection))]
public class TarReaderThroughputTests(ITestOutputHelper output)
{
    [Fact]
    public void ReaderThroughput()
    {
        // 64 files of 1 MiB and 5,000 small files, in memory; the data is read through entry.Data.
        var ms = new MemoryStream();
        byte[] mb = new byte[1 << 20];
        new Random(1).NextBytes(mb);
        using (var w = new TarWriter(ms, leaveOpen: true))
        {
            for (int i = 0; i < 64; i++)
                w.Write(new TarEntry { Name = $"big/{i}", Size = mb.Length, Mode = 0x1A4 }, new MemoryStream(mb));
            for (int i = 0; i < 5_000; i++)
                w.Write(new TarEntry { Name = $"small/{i}", Size = 100, Mode = 0x1A4 }, new MemoryStream(mb, 0, 100));
        }
        byte[] tar = ms.ToArray();
        byte[] buffer = new byte[128 * 1024];
        double best = 0;
        for (int round = 0; round < 3; round++)
        {
            var sw = Stopwatch.StartNew();
            using var r = new TarReader(new MemoryStream(tar, writable: false));
            int count = 0;
            while (r.Next() is { } e)
            {
                while (e.Data!.Read(buffer) > 0)
                {
                }
                count++;
            }
            sw.Stop();
            Assert.Equal(5_064, count);
            best = Math.Max(best, tar.Length / sw.Elapsed.TotalSeconds / 1e9);
        }
        output.WriteLine($"reader throughput: {best:F2} GB/s over {tar.Length / 1e6:F0} MB");
        // A floor far below the measured ~2.8 GB/s: it catches per-byte or per-entry regressions, not noise.
        Assert.True(best > 0.15, $"reader throughput {best:F2} GB/s");
    }
}
