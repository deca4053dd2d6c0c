using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Tests.Storage;

public class ContentStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "strata-cs-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task IngestVerifiesAndPublishesAtomically()
    {
        var store = ContentStore.Open(_root);
        var data = new byte[300_000];
        Random.Shared.NextBytes(data);
        var digest = Digest.Sha256(data);
        var (d, size) = await store.IngestAsync(new MemoryStream(data), digest, data.Length, TestContext.Current.CancellationToken);
        Assert.Equal(digest, d);
        Assert.Equal(data.Length, size);
        Assert.Equal(data, store.ReadAll(digest));
        Assert.Empty(Directory.EnumerateFiles(store.IngestDirectory));
    }

    [Fact]
    public async Task WrongDigestLeavesNothing()
    {
        var store = ContentStore.Open(_root);
        var data = "hello"u8.ToArray();
        var wrong = Digest.Sha256("other"u8);
        var e = await Assert.ThrowsAsync<DigestMismatchException>(() => store.IngestAsync(new MemoryStream(data), wrong, data.Length, TestContext.Current.CancellationToken));
        Assert.Equal(ErrorKind.DigestMismatch, e.Kind);
        Assert.False(store.Exists(wrong));
        Assert.False(store.Exists(Digest.Sha256(data)));
        Assert.Empty(Directory.EnumerateFiles(store.IngestDirectory));
    }

    [Theory]
    [InlineData(4)]   // truncated
    [InlineData(6)]   // longer than its descriptor
    public async Task WrongSizeLeavesNothing(int declared)
    {
        var store = ContentStore.Open(_root);
        var data = "hello"u8.ToArray();
        var digest = Digest.Sha256(data);
        var e = await Assert.ThrowsAsync<StrataException>(() => store.IngestAsync(new MemoryStream(data), digest, declared, TestContext.Current.CancellationToken));
        Assert.Equal(ErrorKind.InvalidContent, e.Kind);
        Assert.False(store.Exists(digest));
        Assert.Empty(Directory.EnumerateFiles(store.IngestDirectory));
    }

    [Fact]
    public void ReadAllDetectsCorruptionOnDisk()
    {
        var store = ContentStore.Open(_root);
        var desc = store.Put("x", "hello"u8);
        File.WriteAllText(store.BlobPath(desc.Digest), "jello");
        Assert.Throws<DigestMismatchException>(() => store.ReadAll(desc.Digest));
    }

    [Fact]
    public void VerifyingStreamRejectsFlippedByte()
    {
        var data = new byte[10_000];
        Random.Shared.NextBytes(data);
        var digest = Digest.Sha256(data);
        data[5000] ^= 1;
        using var s = new VerifyingStream(new MemoryStream(data), digest, data.Length, "blob");
        Assert.Throws<DigestMismatchException>(() => s.CopyTo(Stream.Null));
    }
}
