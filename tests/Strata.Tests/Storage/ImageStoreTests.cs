using Strata.Oci;
using Strata.Storage;

namespace Strata.Tests.Storage;

public class ImageStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "strata-is-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void NamesMoveBetweenImagesAndResolve()
    {
        using var store = StrataStore.Open(_root);
        var a = Digest.Sha256("a"u8);
        var b = Digest.Sha256("b"u8);
        var m = Digest.Sha256("m"u8);
        store.Images.Put(a, m, MediaTypes.OciManifest, null, 1, ["docker.io/library/x:latest"], new ImageRefs([m], []));
        store.Images.Put(b, m, MediaTypes.OciManifest, null, 1, ["docker.io/library/x:latest", "docker.io/library/y:1"], new ImageRefs([m], []));
        Assert.Empty(store.Images.Get(a)!.Names);
        Assert.Equal(2, store.Images.Get(b)!.Names.Count);
        Assert.Equal(b, store.ResolveId("x"));
        Assert.Equal(b, store.ResolveId("y:1"));
        Assert.Equal(a, store.ResolveId(a.Encoded[..12]));
        Assert.Null(store.ResolveId("z"));
    }

    [Fact]
    public void ConcurrentProcessesShareOneDatabase()
    {
        // Two connections stand for two processes: WAL and busy_timeout serialise their writes.
        using var s1 = StrataStore.Open(_root);
        using var s2 = StrataStore.Open(_root);
        Parallel.For(0, 40, i =>
        {
            var store = i % 2 == 0 ? s1 : s2;
            lock (store) store.Images.Put(Digest.Sha256([(byte)i]), Digest.Sha256([(byte)i]), MediaTypes.OciManifest, null, i, [$"docker.io/library/n{i}:latest"], new ImageRefs([Digest.Sha256([(byte)i])], []));
        });
        Assert.Equal(40, s1.Images.List().Count);
    }
}
