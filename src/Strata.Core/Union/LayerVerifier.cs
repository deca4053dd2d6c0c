using System.Security.Cryptography;
using Strata.Archive;
using Strata.Archive.Changes;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.IO;
using Strata.Snapshots;
using Strata.Storage;
using static Strata.Native.Libc;

namespace Strata.Union;

/// <summary>
/// Verifies what a reader of a union (export) takes from committed layers against each layer's record of what was
/// unpacked (<see cref="TreeIndex"/>), file by file as it streams: a file's bytes are hashed as the tar takes them and
/// its node compared at their end, so the check costs a hash of the bytes handed on and no extra read (hashing whole
/// layers first would read every lower file twice, and files the union hides too). A file that does not match fails
/// the read with exit 5 after its bytes went out: export -o writes to a temporary file, so nothing damaged is kept.
/// The container's own upper, layers with no record (committed before schema 6) and flattened deep stacks are not checked.
/// </summary>
internal sealed class LayerVerifier
{
    private readonly Dictionary<int, (SnapshotRecord Record, DirectorySnapshotter Snapshotter)> _layers;
    private readonly Dictionary<int, Dictionary<string, (byte[] Node, string Link)>?> _records = [];

    private LayerVerifier(Dictionary<int, (SnapshotRecord, DirectorySnapshotter)> layers) => _layers = layers;

    /// <summary>For a view over <paramref name="viewLayers"/> (top first) of a snapshot chain under <paramref name="parent"/>; null when there is nothing to verify.</summary>
    public static LayerVerifier? For(StrataStore store, ISnapshotter snapshotter, string? parent, IReadOnlyList<string> viewLayers)
    {
        if (parent is null || snapshotter is not DirectorySnapshotter own) return null;
        // Matched by inode, not by path: a view names lowers through links and however the store root was spelled.
        var byInode = new Dictionary<(uint, uint, ulong), SnapshotRecord>();
        foreach (var s in store.Snapshots.Chain(parent).Where(s => s.State == SnapshotState.Committed && s.Tree is not null))
            if (TryLstatAt(AT_FDCWD, own.TreeOf(s), out var st)) byInode[(st.DevMajor, st.DevMinor, st.Ino)] = s;
        var layers = new Dictionary<int, (SnapshotRecord, DirectorySnapshotter)>();
        for (int i = 0; i < viewLayers.Count; i++)
            if (TryLstatAt(AT_FDCWD, viewLayers[i], out var st) && byInode.TryGetValue((st.DevMajor, st.DevMinor, st.Ino), out var s)) layers[i] = (s, own);
        return layers.Count == 0 ? null : new LayerVerifier(layers);
    }

    /// <summary>Checks one entry of the walk (see <see cref="UnionExport.Entries"/>): at once, or at the end of its data.</summary>
    public void Check(UnionEntry e, FileNode node, TarEntry entry)
    {
        if (!_layers.TryGetValue(e.Layer, out var layer)) return;
        if (!_records.TryGetValue(e.Layer, out var record)) _records[e.Layer] = record = layer.Snapshotter.TreeRecord(layer.Record);
        if (record is null) return;
        if (!record.TryGetValue(e.Path, out var expected)) throw Damaged(layer.Record, e.Path);
        bool file = node.RawStat.IsRegular;
        if (file && entry.Type == TarEntryType.Regular && entry.Size > 0 && entry.Data is { } data)
        {
            entry.Data = new CheckedData(data, content => Compare(layer.Record, e.Path, TreeIndex.NodeDigest(node, content), expected.Node));
            return;
        }
        // Nothing to stream (an empty file, or a rootless form's stand-in for a device): checked now.
        var content = !file ? null : node.RawStat.Size == 0 ? SHA256.HashData(ReadOnlySpan<byte>.Empty) : FileHash.Sha256(node.FullPath, (long)node.RawStat.Size);
        Compare(layer.Record, e.Path, TreeIndex.NodeDigest(node, content), expected.Node);
    }

    private static void Compare(SnapshotRecord layer, string path, byte[] actual, byte[] expected)
    {
        if (!actual.AsSpan().SequenceEqual(expected)) throw Damaged(layer, path);
    }

    private static StrataException Damaged(SnapshotRecord layer, string path) => new(ErrorKind.DigestMismatch,
        $"layer {layer.Key}: /{path} does not match what was unpacked (strata system check --repair removes the layer; it is unpacked again from its blob)");

    /// <summary>A file's bytes hashed as they are read; at their end the hash goes to a check.</summary>
    private sealed class CheckedData(Stream inner, Action<byte[]> atEnd) : ReadOnlyStream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private bool _done;

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            if (n > 0) _hash.AppendData(buffer[..n]);
            else if (!_done)
            {
                _done = true;
                atEnd(_hash.GetHashAndReset());
            }
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                _hash.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
