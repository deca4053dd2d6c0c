using Strata.Archive.Compression;
using Strata.Archive.Tar;

namespace Strata.Archive;

/// <summary>Writes a layer blob in one streaming pass, hashing the tar (DiffID) and the compressed bytes together.</summary>
internal static class LayerWriter
{
    /// <param name="sourceDateEpoch">When set, mtimes later than this are clamped to it (nanoseconds dropped), for reproducible layers.</param>
    public static LayerWriteResult Write(IEnumerable<TarEntry> entries, Stream output, Oci.Compression compression,
        long? sourceDateEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(output);
        using var compressed = new HashingStream(output, leaveOpen: true);
        using var uncompressed = new HashingStream(
            LayerStreams.OpenCompressor(compressed, compression, leaveOpen: true), leaveOpen: false);
        using (var tar = new TarWriter(uncompressed, leaveOpen: true))
        {
            foreach (var entry in entries)
                tar.Write(Clamp(entry, sourceDateEpoch));
            tar.Finish();
        }
        var diffId = uncompressed.GetDigest();
        long uncompressedSize = uncompressed.BytesCount;
        uncompressed.Dispose();   // closes the compressor, which writes its final frame
        compressed.Flush();
        return new LayerWriteResult(diffId, uncompressedSize, compressed.GetDigest(), compressed.BytesCount, compression);
    }

    private static TarEntry Clamp(TarEntry entry, long? epoch)
    {
        if (epoch is not { } max || entry.MTimeSeconds < max || (entry.MTimeSeconds == max && entry.MTimeNanoseconds == 0))
            return entry;
        // A copy, so the caller's entries are left as they were.
        var copy = new TarEntry
        {
            Name = entry.Name, Type = entry.Type, LinkName = entry.LinkName, Mode = entry.Mode,
            Uid = entry.Uid, Gid = entry.Gid, UserName = entry.UserName, GroupName = entry.GroupName,
            Size = entry.Size, MTimeSeconds = max, MTimeNanoseconds = 0,
            DevMajor = entry.DevMajor, DevMinor = entry.DevMinor, SparseMap = entry.SparseMap, Data = entry.Data,
        };
        foreach (var (k, v) in entry.Xattrs)
            copy.Xattrs[k] = v;
        return copy;
    }
}
