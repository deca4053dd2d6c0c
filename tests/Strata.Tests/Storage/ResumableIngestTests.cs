using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Tests.Storage;

public class ResumableIngestTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "strata-ri-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static byte[] Data(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        return data;
    }

    [Fact]
    public void PartialBytesSurviveAndTheNextWriterContinuesFromThem()
    {
        var store = ContentStore.Open(_root);
        var data = Data(700_000);
        var digest = Digest.Sha256(data);
        using (var first = store.OpenResumable(digest, data.Length)!)
        {
            Assert.Equal(0, first.Offset);
            first.Write(data.AsSpan(0, 300_000));
        } // a failure: disposed without commit
        Assert.False(store.Exists(digest));
        Assert.Equal([(digest, 300_000L)], store.ListPartial().ToList());

        using (var second = store.OpenResumable(digest, data.Length)!)
        {
            Assert.Equal(300_000, second.Offset);
            second.Write(data.AsSpan(300_000));
            second.Commit();
        }
        Assert.Equal(data, store.ReadAll(digest));
        Assert.Empty(store.ListPartial());
        Assert.Null(store.OpenResumable(digest, data.Length));
    }

    [Fact]
    public void WrongPartialBytesAreDiscardedAtCommit()
    {
        var store = ContentStore.Open(_root);
        var data = Data(50_000);
        var digest = Digest.Sha256(data);
        using (var w = store.OpenResumable(digest, data.Length)!)
        {
            var bad = (byte[])data.Clone();
            bad[10] ^= 0xff;
            w.Write(bad);
            Assert.Throws<DigestMismatchException>(() => w.Commit());
        }
        Assert.Empty(store.ListPartial());
        Assert.False(store.Exists(digest));
    }

    [Fact]
    public void OversizedContentIsRefusedAndDiscarded()
    {
        var store = ContentStore.Open(_root);
        var data = Data(1000);
        using (var w = store.OpenResumable(Digest.Sha256(data), 500)!)
        {
            var e = Assert.Throws<StrataException>(() => w.Write(data));
            Assert.Equal(ErrorKind.InvalidContent, e.Kind);
        }
        Assert.Empty(store.ListPartial());
    }

    [Fact]
    public void RestartDropsWhatWasThere()
    {
        var store = ContentStore.Open(_root);
        var data = Data(10_000);
        var digest = Digest.Sha256(data);
        using (var w = store.OpenResumable(digest, data.Length)!) w.Write(data.AsSpan(0, 4000));
        using (var w = store.OpenResumable(digest, data.Length)!)
        {
            Assert.Equal(4000, w.Offset);
            w.Restart();
            w.Write(data);
            w.Commit();
        }
        Assert.Equal(data, store.ReadAll(digest));
    }

    [Fact]
    public async Task ASecondWriterWaitsForTheFirstAndFindsTheBlobStored()
    {
        var store = ContentStore.Open(_root);
        var data = Data(20_000);
        var digest = Digest.Sha256(data);
        var first = store.OpenResumable(digest, data.Length)!;
        first.Write(data.AsSpan(0, 1000));
        var second = Task.Run(() => store.OpenResumable(digest, data.Length), TestContext.Current.CancellationToken);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.False(second.IsCompleted); // flock held by the first writer
        first.Write(data.AsSpan(1000));
        first.Commit();
        first.Dispose();
        Assert.Null(await second);
        Assert.Equal(data, store.ReadAll(digest));
    }

    [Fact]
    public void CleanIngestKeepsALockedPartialAndRemovesAnAbandonedOne()
    {
        var store = ContentStore.Open(_root);
        var a = Data(3000);
        var b = Data(4000);
        using var live = store.OpenResumable(Digest.Sha256(a), a.Length)!;
        live.Write(a.AsSpan(0, 100));
        live.Flush();
        using (var dead = store.OpenResumable(Digest.Sha256(b), b.Length)!) dead.Write(b.AsSpan(0, 100));
        foreach (var f in Directory.EnumerateFiles(store.IngestDirectory)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddHours(-2));
        store.CleanIngest(TimeSpan.FromHours(1));
        Assert.Equal([Digest.Sha256(a)], store.ListPartial().Select(p => p.Digest).ToList());
    }
}
