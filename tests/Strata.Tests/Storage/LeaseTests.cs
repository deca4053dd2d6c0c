using Strata.Errors;
using Strata.Oci;
using Strata.Storage;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Storage;

/// <summary>
/// Leases: what an operation in flight holds survives a collection beside it; what a finished or dead operation left
/// unreferenced goes at the next one; a collection after rmi looks only at what the removed image referenced.
/// Two StrataStore instances on one root stand for two processes (flock and SQLite see them as such).
/// </summary>
public class LeaseTests
{
    private static Digest PutBlob(StrataStore store, string text) => store.Content.Put(MediaTypes.OciLayer, System.Text.Encoding.UTF8.GetBytes(text)).Digest;

    private static (int, long) Prune(StrataStore store)
    {
        using var exclusive = StoreLock.Exclusive(store);
        Lease.ExpireDead(store);
        return GarbageCollector.CollectAll(store, TimeSpan.Zero);
    }

    [Fact]
    public void ABlobHeldByALiveLeaseSurvivesACollectionAndGoesAfterTheLeaseEnds()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("store");
        using var writer = StrataStore.Open(root);
        using var collector = StrataStore.Open(root);
        Digest held;
        using (writer.BeginLease())
        {
            held = PutBlob(writer, "in flight");
            Assert.Equal((0, 0L), Prune(collector));
            Assert.True(collector.Content.Exists(held));
            // A blob that was there before the lease is held from the moment the writer looks at it.
            var before = PutBlob(collector, "already there");
            Assert.True(writer.Content.Exists(before));
            Prune(collector);
            Assert.True(collector.Content.Exists(before));
        }
        Assert.Equal(2, Prune(collector).Item1);
        Assert.False(collector.Content.Exists(held));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Lease.Directory(root)));
    }

    [Fact]
    public void ALeaseWhoseHolderIsGoneIsDroppedByTheNextCollection()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("store");
        using var store = StrataStore.Open(root);
        var blob = PutBlob(store, "left by a killed pull");
        // What a killed process leaves: its row and references, and its file, which nobody holds locked any more.
        store.Leases.Add("dead");
        store.Leases.Hold("dead", RefKind.Blob, blob.ToString());
        Directory.CreateDirectory(Lease.Directory(root));
        File.WriteAllText(Path.Combine(Lease.Directory(root), "dead"), "");
        File.WriteAllText(Path.Combine(Lease.Directory(root), "stray"), ""); // a crash before its row was written
        Assert.Equal(1, Prune(store).Item1);
        Assert.Empty(store.Leases.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Lease.Directory(root)));
    }

    [Fact]
    public void AHoldWaitsForACollectionOnlyForItsBoundAndSaysWhy()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("store");
        using var collector = StrataStore.Open(root);
        using var writer = StrataStore.Open(root, TimeSpan.FromMilliseconds(300));
        using var lease = writer.BeginLease();
        using (StoreLock.Exclusive(collector))
        {
            var e = Assert.Throws<StrataException>(() => writer.Content.Exists(Digest.Sha256("x"u8)));
            Assert.Equal(ErrorKind.Conflict, e.Kind);
            Assert.Contains("another strata process holds the store", e.Message, StringComparison.Ordinal);
        }
        Assert.False(writer.Content.Exists(Digest.Sha256("x"u8)));
    }

    [Fact]
    public void RemovingAnImageCollectsOnlyWhatItAloneReferenced()
    {
        using var tmp = new TempDir();
        using var store = StrataStore.Open(tmp.Combine("store"));
        var shared = PutBlob(store, "shared layer");
        var own = PutBlob(store, "own layer");
        var stray = PutBlob(store, "nobody's");
        var a = new ImageRefs([PutBlob(store, "manifest a"), own, shared], []);
        var b = new ImageRefs([PutBlob(store, "manifest b"), shared], []);
        store.Images.Put(Digest.Sha256("a"u8), a.Blobs[0], MediaTypes.OciManifest, null, 1, [], a);
        store.Images.Put(Digest.Sha256("b"u8), b.Blobs[0], MediaTypes.OciManifest, null, 1, [], b);
        Assert.Equal(a.Blobs.ToHashSet(), store.Images.Refs(Digest.Sha256("a"u8)).Blobs.ToHashSet());

        Assert.True(store.Images.DeleteUnused(Digest.Sha256("a"u8), null));
        Assert.Empty(store.Images.Refs(Digest.Sha256("a"u8)).Blobs); // the rows went with the image
        using (StoreLock.Exclusive(store)) Assert.Equal(2, GarbageCollector.Collect(store, a.Blobs).Blobs);
        Assert.False(store.Content.Exists(own));
        Assert.True(store.Content.Exists(shared));
        Assert.True(store.Content.Exists(stray)); // not looked at: a prune takes it
        Assert.Equal(1, Prune(store).Item1);
        Assert.False(store.Content.Exists(stray));
    }
}
