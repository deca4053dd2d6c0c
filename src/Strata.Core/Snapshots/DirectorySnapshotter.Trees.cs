using Strata.Errors;
using Strata.Storage;

namespace Strata.Snapshots;

/// <summary>
/// A committed snapshot's tree against the record made when it was committed (<see cref="TreeIndex"/>): the record is
/// a file beside diff/ and its digest is in the snapshot's row, so a damaged record is found as surely as a damaged tree.
/// </summary>
internal abstract partial class DirectorySnapshotter
{
    /// <summary>What a re-walk of a committed snapshot found.</summary>
    public enum TreeState
    {
        /// <summary>The tree and its record are as made at commit.</summary>
        Intact,

        /// <summary>Committed before records were kept: recorded now, as found.</summary>
        Recorded,

        /// <summary>The tree is as made, its record file is not (it can be written again from the tree).</summary>
        RecordDamaged,

        /// <summary>The tree is not as made.</summary>
        Damaged,
    }

    /// <summary>Writes the record of an active snapshot's tree as it is now; returns its digest for the row.</summary>
    private string RecordTree(SnapshotRecord active)
    {
        var (bytes, digest) = TreeIndex.Build(TreeOf(active));
        WriteRecord(active, bytes);
        return digest.ToString();
    }

    private string RecordPath(SnapshotRecord s) => Path.Combine(Store.Root, s.Dir!, TreeIndex.FileName);

    private void WriteRecord(SnapshotRecord s, byte[] bytes)
    {
        var path = RecordPath(s);
        Native.UnlockedFile.WriteAllBytes(path + ".tmp", bytes);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>
    /// A committed snapshot's tree, as a walk found it (every file hashed), against its record. <paramref name="difference"/> is the
    /// first path that differs when the record could be read ("" when it could not). With <paramref name="mend"/>, a
    /// record file that lost its bytes is written again from the tree, which still matches the row's digest.
    /// </summary>
    /// <param name="s">The snapshot.</param>
    /// <param name="found">What <see cref="TreeIndex.Build"/> of its tree (<see cref="TreeOf"/>) made.</param>
    /// <param name="mend">Write a damaged record file again.</param>
    /// <param name="difference">The first path that differs.</param>
    public TreeState VerifyTree(SnapshotRecord s, (byte[] Bytes, Oci.Digest Digest) found, bool mend, out string difference)
    {
        difference = "";
        var (bytes, digest) = found;
        if (s.Tree is null)
        {
            // No record to hold it to (committed by a strata before schema 6): from now on, bit rot shows.
            WriteRecord(s, bytes);
            Store.Snapshots.SetTree(s.Key, digest.ToString());
            return TreeState.Recorded;
        }
        var recorded = ReadRecord(s);
        if (digest.ToString() != s.Tree)
        {
            if (recorded is not null) difference = TreeIndex.FirstDifference(recorded, bytes) ?? "";
            return TreeState.Damaged;
        }
        if (recorded is not null) return TreeState.Intact;
        if (mend) WriteRecord(s, bytes);
        return TreeState.RecordDamaged;
    }

    /// <summary>A committed snapshot's record by path, for readers that verify each file they hand on; null when it has none.</summary>
    public Dictionary<string, (byte[] Node, string Link)>? TreeRecord(SnapshotRecord s)
    {
        if (s.Tree is null) return null;
        var bytes = ReadRecord(s) ?? throw new StrataException(ErrorKind.DigestMismatch,
            $"layer {s.Key}: the record of what was unpacked is missing or damaged (strata system check --repair writes it again)");
        return TreeIndex.Parse(bytes);
    }

    /// <summary>The record file's bytes when they match the row's digest, else null.</summary>
    private byte[]? ReadRecord(SnapshotRecord s)
    {
        try
        {
            var bytes = Native.UnlockedFile.ReadAllBytes(RecordPath(s));
            return Oci.Digest.Sha256(bytes).ToString() == s.Tree ? bytes : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}
