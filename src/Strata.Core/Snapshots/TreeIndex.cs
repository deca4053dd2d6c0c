using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Strata.Archive.Changes;
using Strata.Errors;
using Strata.IO;
using Strata.Oci;
using static Strata.Native.Libc;

namespace Strata.Snapshots;

/// <summary>
/// The record of a snapshot's tree as written, made when it is committed: one entry per object in walk order (its
/// path, the digest of what it is, and the first path of its hard-link group), so bit rot in an unpacked layer can be
/// found by a walk (system check) and by a reader per file (export). A node's digest covers the on-disk form the
/// applier wrote: st_mode, owner, mtime, size and content SHA-256, link target, device numbers and every xattr (the
/// overlay and rootless-form markers included). Left out on purpose: atime, ctime and inode numbers (reading or
/// copying changes them, the tree does not), a directory's size (the file system's), and security.selinux (the
/// host's label, which a relabel rewrites). A committed tree is read-only to every mounter, so these never change on
/// a healthy store.
/// </summary>
internal static class TreeIndex
{
    /// <summary>Where the record lives: beside the snapshot's diff/, its digest in the snapshot's row.</summary>
    public const string FileName = "tree.idx";

    /// <summary>Each thread's buffer for <see cref="NodeDigest"/>: a walk of a layer makes thousands.</summary>
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    /// <summary>One object of a walk: its path in the tree, its node, its hard-link group's first path and its node digest.</summary>
    private sealed class Item(string path, FileNode node)
    {
        public string Path { get; } = path;
        public FileNode Node { get; } = node;
        public string Link { get; set; } = "";
        public byte[]? Digest { get; set; }
    }

    /// <summary>The tree's record and its digest. Contents are hashed in parallel (bounded by the CPUs), large reads.</summary>
    public static (byte[] Bytes, Digest Digest) Build(string tree, CancellationToken cancellationToken = default)
    {
        var items = new List<Item>();
        Walk(tree, "", items, new Dictionary<(uint, uint, ulong), string>(), cancellationToken);
        Parallel.ForEach(items, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            item => item.Digest = NodeDigest(item.Node, item.Node.RawStat.IsRegular ? FileHash.Sha256(item.Node.FullPath, (long)item.Node.RawStat.Size) : null));
        var output = new ArrayBufferWriter<byte>(items.Count * 96);
        foreach (var item in items) WriteEntry(output, item.Path, item.Digest!, item.Link);
        var bytes = output.WrittenSpan.ToArray();
        return (bytes, Digest.Sha256(bytes));
    }

    private static void Walk(string full, string path, List<Item> items, Dictionary<(uint, uint, ulong), string> inodes, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var node = FileNode.TryRead(full) ?? throw StrataException.NotFound($"{full} vanished while it was read");
        var item = new Item(path, node);
        items.Add(item);
        var st = node.RawStat;
        if (!st.IsDirectory && st.Nlink > 1)
        {
            if (inodes.TryGetValue((st.DevMajor, st.DevMinor, st.Ino), out var first)) item.Link = first;
            else inodes[(st.DevMajor, st.DevMinor, st.Ino)] = path;
        }
        if (!st.IsDirectory) return;
        foreach (var name in node.ChildNames())
            Walk(System.IO.Path.Combine(full, name), path.Length == 0 ? name : path + "/" + name, items, inodes, cancellationToken);
    }

    /// <summary>
    /// The digest of one object as it is on disk; <paramref name="content"/> is a regular file's SHA-256 (ignored for
    /// other types). Readers that hash a file as they hand it on call this to compare with the record.
    /// </summary>
    public static byte[] NodeDigest(FileNode node, byte[]? content)
    {
        var st = node.RawStat;
        var b = t_scratch ??= new ArrayBufferWriter<byte>(256);
        b.ResetWrittenCount();
        Put32(b, st.Mode);
        Put32(b, st.Uid);
        Put32(b, st.Gid);
        Put64(b, (ulong)st.Mtime.Seconds);
        Put32(b, st.Mtime.Nanoseconds);
        switch (st.Type)
        {
            case S_IFREG:
                Put64(b, st.Size);
                b.Write(content ?? throw new ArgumentNullException(nameof(content)));
                break;
            case S_IFLNK:
                PutString(b, node.ReadLink());
                break;
            case S_IFCHR or S_IFBLK:
                Put32(b, st.RdevMajor);
                Put32(b, st.RdevMinor);
                break;
        }
        var xattrs = node.RawXattrs().Where(kv => kv.Key != "security.selinux").OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        Put32(b, (uint)xattrs.Count);
        foreach (var (name, value) in xattrs)
        {
            PutString(b, name);
            PutBytes(b, value);
        }
        return SHA256.HashData(b.WrittenSpan);
    }

    /// <summary>A record's entries by path: the node digest and the hard-link group's first path.</summary>
    public static Dictionary<string, (byte[] Node, string Link)> Parse(ReadOnlySpan<byte> bytes)
    {
        var map = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        while (bytes.Length > 0)
        {
            var path = Encoding.UTF8.GetString(TakeBytes(ref bytes));
            if (bytes.Length < 32) throw StrataException.Invalid("a tree record is truncated");
            var node = bytes[..32].ToArray();
            bytes = bytes[32..];
            map[path] = (node, Encoding.UTF8.GetString(TakeBytes(ref bytes)));
        }
        return map;
    }

    /// <summary>The first path where two records differ (one's entry missing, added or changed), for the report.</summary>
    public static string? FirstDifference(ReadOnlySpan<byte> recorded, ReadOnlySpan<byte> found)
    {
        var a = Parse(recorded);
        var b = Parse(found);
        return a.Keys.Union(b.Keys).Order(StringComparer.Ordinal).FirstOrDefault(p =>
            !a.TryGetValue(p, out var x) || !b.TryGetValue(p, out var y) || !x.Node.AsSpan().SequenceEqual(y.Node) || x.Link != y.Link);
    }

    private static void WriteEntry(ArrayBufferWriter<byte> b, string path, byte[] node, string link)
    {
        PutString(b, path);
        b.Write(node);
        PutString(b, link);
    }

    private static void PutString(ArrayBufferWriter<byte> b, string v)
    {
        int n = Encoding.UTF8.GetByteCount(v);
        Put32(b, (uint)n);
        b.Advance(Encoding.UTF8.GetBytes(v, b.GetSpan(n)));
    }

    private static ReadOnlySpan<byte> TakeBytes(ref ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4) throw StrataException.Invalid("a tree record is truncated");
        int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if (len < 0 || bytes.Length - 4 < len) throw StrataException.Invalid("a tree record is truncated");
        var value = bytes.Slice(4, len);
        bytes = bytes[(4 + len)..];
        return value;
    }

    private static void Put32(ArrayBufferWriter<byte> b, uint v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b.GetSpan(4), v);
        b.Advance(4);
    }

    private static void Put64(ArrayBufferWriter<byte> b, ulong v)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b.GetSpan(8), v);
        b.Advance(8);
    }

    private static void PutBytes(ArrayBufferWriter<byte> b, ReadOnlySpan<byte> v)
    {
        Put32(b, (uint)v.Length);
        b.Write(v);
    }
}
