using Strata.Archive;
using Strata.Archive.Changes;
using Strata.Archive.Tar;
using Strata.Images;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// Full copies: each layer directory holds the whole tree up to that layer, a container is a copy of its image's
/// tree edited in place. Slow and large, but it needs neither overlayfs nor privilege; nothing is mounted.
/// </summary>
internal sealed class VfsDriver : IStorageDriver
{
    public StorageDriver Kind => StorageDriver.Vfs;

    public void ApplyLayer(StrataStore store, Descriptor layer, Digest diffId, string target, IReadOnlyList<string> lowers)
    {
        if (lowers.Count > 0) TreeCopy.Copy(lowers[0], target);
        new ImageUnpacker(store).ApplyLayer(layer, diffId, target);
    }

    public void Prepare(Container container, IReadOnlyList<string> lowers)
    {
        if (lowers.Count > 0) TreeCopy.Copy(lowers[0], container.MergedDir);
        else Directory.CreateDirectory(container.MergedDir);
    }

    public string Mount(Container container, IReadOnlyList<LayerInfo> stack) => container.MergedDir;

    public bool Unmount(Container container, bool force) => true;

    public bool IsMounted(Container container) => false;

    /// <summary>The top layer's own directory: the whole image, which nothing may write to.</summary>
    public string View(IReadOnlyList<LayerInfo> stack, IReadOnlyList<string> lowers, string target) =>
        lowers.Count > 0 ? lowers[0] : target;

    public void ReleaseView(string target, bool force) { }

    UnionView IStorageDriver.Reader(Container container, IReadOnlyList<string> lowers) => new([container.MergedDir]);

    public IReadOnlyList<Change> Changes(Container container, IReadOnlyList<string> lowers) =>
        ContainerChanges.OfTrees(lowers.Take(1).ToList(), container.MergedDir);

    public IEnumerable<TarEntry> LayerEntries(Container container, IReadOnlyList<string> lowers) =>
        DirectoryDiffer.Diff(lowers.Count > 0 ? lowers[0] : null, container.MergedDir);

    public long WritableSize(Container container) => SpaceUsage.DirectorySize(container.MergedDir);
}
