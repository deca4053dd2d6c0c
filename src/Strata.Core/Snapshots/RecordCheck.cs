using System.Security.Cryptography;
using Strata.Archive.Changes;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.IO;
using Strata.Storage;

namespace Strata.Snapshots;

/// <summary>
/// One committed layer's record (<see cref="TreeIndex"/>) held against the entries a reader takes from its tree as it
/// hands them on (export, a vfs copy): a file's bytes are hashed as the consumer reads them and its node compared at
/// their end, metadata-only entries at once. The check costs a hash of the bytes handed on, no second read.
/// </summary>
internal sealed class RecordCheck
{
    private readonly SnapshotRecord _layer;
    private readonly Dictionary<string, (byte[] Node, string Link)> _record;

    private RecordCheck(SnapshotRecord layer, Dictionary<string, (byte[] Node, string Link)> record)
    {
        _layer = layer;
        _record = record;
    }

    /// <summary>The check of a committed snapshot's tree; null when it has no record (committed before schema 6).</summary>
    public static RecordCheck? For(DirectorySnapshotter snapshotter, SnapshotRecord layer) =>
        snapshotter.TreeRecord(layer) is { } record ? new RecordCheck(layer, record) : null;

    /// <summary>Checks the entry for <paramref name="path"/> (relative to the tree), read from <paramref name="node"/>: at once, or at the end of its data.</summary>
    public void Check(string path, FileNode node, TarEntry entry)
    {
        if (!_record.TryGetValue(path, out var expected)) throw Damaged(path);
        bool file = node.RawStat.IsRegular;
        if (file && entry.Type == TarEntryType.Regular && entry.Size > 0 && entry.Data is { } data)
        {
            entry.Data = new CheckedData(data, content => Compare(path, TreeIndex.NodeDigest(node, content), expected.Node));
            return;
        }
        // Nothing to stream (an empty file, or a rootless form's stand-in for a device): checked now.
        var content = !file ? null : node.RawStat.Size == 0 ? SHA256.HashData(ReadOnlySpan<byte>.Empty) : FileHash.Sha256(node.FullPath, (long)node.RawStat.Size);
        Compare(path, TreeIndex.NodeDigest(node, content), expected.Node);
    }

    private void Compare(string path, byte[] actual, byte[] expected)
    {
        if (!actual.AsSpan().SequenceEqual(expected)) throw Damaged(path);
    }

    private StrataException Damaged(string path) => new(ErrorKind.DigestMismatch,
        $"layer {_layer.Key}: /{path} does not match what was unpacked (strata system check --repair removes the layer; it is unpacked again from its blob)");

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
