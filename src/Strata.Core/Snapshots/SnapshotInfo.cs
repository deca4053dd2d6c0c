namespace Strata.Snapshots;

/// <summary>What a snapshot is for.</summary>
public enum SnapshotKind
{
    /// <summary>Writable: a container's layer, or a layer being unpacked.</summary>
    Active,

    /// <summary>Read-only over a parent, with nothing of its own.</summary>
    View,

    /// <summary>A finished layer: read-only, a parent for others.</summary>
    Committed,
}

/// <summary>A snapshot's record.</summary>
/// <param name="Key">Its key (a committed layer's is its ChainID).</param>
/// <param name="Parent">The committed snapshot it stacks on, or null.</param>
/// <param name="Kind">Active, view or committed.</param>
/// <param name="Created">When it was made.</param>
public sealed record SnapshotInfo(string Key, string? Parent, SnapshotKind Kind, DateTimeOffset Created);

/// <summary>The disk a snapshot uses on its own.</summary>
/// <param name="Size">Bytes of its files (du: links and whiteouts cost nothing).</param>
/// <param name="Inodes">Its files and directories.</param>
public sealed record SnapshotUsage(long Size, long Inodes);
