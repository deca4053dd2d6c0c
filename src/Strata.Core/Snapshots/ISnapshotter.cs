namespace Strata.Snapshots;

/// <summary>
/// Where layers and containers' writable layers live, in the shape of containerd's snapshotter: it knows snapshots
/// by key, each on a parent, and says how to mount them; it knows nothing of images, containers or the store. A
/// layer is a committed snapshot keyed by its ChainID; a container is an active snapshot on its image's top layer.
/// Strata applies layer tars into the mounts of an active snapshot, mounts them itself (the kernel's overlayfs, its
/// FUSE union, or no mount for a bind) and reads them without a mount, so an implementation only keeps directories.
/// </summary>
/// <remarks>
/// Calls come from one operation at a time per key, but several processes may use one snapshotter's directory at
/// once: an implementation must keep its own records consistent across processes (Strata's own use SQLite).
/// </remarks>
public interface ISnapshotter
{
    /// <summary>A short name for messages and the store's settings ("overlay", "vfs").</summary>
    string Name { get; }

    /// <summary>
    /// Makes an active (writable) snapshot on <paramref name="parent"/> (a committed snapshot, or null for an empty
    /// one) and returns how to mount it. Throws with <see cref="Errors.ErrorKind.AlreadyExists"/> when the key is taken.
    /// </summary>
    IReadOnlyList<MountSpec> Prepare(string key, string? parent);

    /// <summary>A read-only snapshot of <paramref name="parent"/>, as Prepare but nothing may be written.</summary>
    IReadOnlyList<MountSpec> View(string key, string? parent);

    /// <summary>
    /// How to mount a snapshot: an active one read-write, a view or a committed one read-only (containerd refuses
    /// committed ones; Strata reads layers this way without making a view).
    /// </summary>
    IReadOnlyList<MountSpec> Mounts(string key);

    /// <summary>
    /// Turns an active snapshot into a committed one named <paramref name="name"/>, which may be a parent from then
    /// on. Throws with <see cref="Errors.ErrorKind.AlreadyExists"/> when the name is taken (the active one stays).
    /// </summary>
    void Commit(string name, string key);

    /// <summary>Removes a snapshot and its files; refused (<see cref="Errors.ErrorKind.FailedPrecondition"/>) while another snapshot has it as parent.</summary>
    void Remove(string key);

    /// <summary>A snapshot's record, or null when there is none with that key.</summary>
    SnapshotInfo? Stat(string key);

    /// <summary>The disk a snapshot uses on its own (not its parents').</summary>
    SnapshotUsage Usage(string key);

    /// <summary>Every snapshot.</summary>
    IReadOnlyList<SnapshotInfo> List();
}
