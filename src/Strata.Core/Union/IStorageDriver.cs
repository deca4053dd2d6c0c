using Strata.Archive;
using Strata.Archive.Tar;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// What differs between storage drivers, shaped like containerd's snapshotter: how a layer lands on disk, how a
/// container's writable layer is prepared (Prepare), mounted (Mounts), read, and turned back into a layer (Commit),
/// and how an image is viewed read-only (View). Containers, names, metadata and garbage collection are the store's,
/// shared by every driver. Layer directories are given top first.
/// </summary>
internal interface IStorageDriver
{
    StorageDriver Kind { get; }

    /// <summary>Applies a verified layer blob into an empty directory, over the given layers.</summary>
    void ApplyLayer(StrataStore store, Descriptor layer, Digest diffId, string target, IReadOnlyList<string> lowers);

    void Prepare(Container container, IReadOnlyList<string> lowers);

    string Mount(Container container, IReadOnlyList<LayerInfo> stack);

    bool Unmount(Container container, bool force);

    bool IsMounted(Container container);

    /// <summary>A read-only view of an image's layers at (or instead of) target.</summary>
    string View(IReadOnlyList<LayerInfo> stack, IReadOnlyList<string> lowers, string target);

    void ReleaseView(string target, bool force);

    /// <summary>The container's merged tree, read without mounting.</summary>
    internal UnionView Reader(Container container, IReadOnlyList<string> lowers);

    IReadOnlyList<Change> Changes(Container container, IReadOnlyList<string> lowers);

    /// <summary>The container's changes as layer entries (whiteouts, opaque markers), for commit.</summary>
    IEnumerable<TarEntry> LayerEntries(Container container, IReadOnlyList<string> lowers);

    /// <summary>The container's own disk use.</summary>
    long WritableSize(Container container);
}
