using Strata.Archive;
using Strata.Archive.Changes;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Images;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// Layers as directories in overlayfs's on-disk form, a container an empty upper directory; stacks mounted by the
/// kernel's overlayfs, or (<see cref="StorageDriver.Fuse"/>) by Strata's FUSE union, rootless. Both read and
/// write the same form, so a container may be mounted by either.
/// </summary>
internal sealed class OverlayDriver : IStorageDriver
{
    private readonly string _layersHome;
    private readonly bool _rootless;

    /// <param name="rootless">The store's layers are in <see cref="RootlessForm"/> (it was made without root).</param>
    public OverlayDriver(StrataStore store, string layersHome, bool fuse = false, bool rootless = false, string? overlayProgram = null)
    {
        _layersHome = layersHome;
        _rootless = rootless;
        if (rootless && !fuse)
            throw new StrataException(ErrorKind.FailedPrecondition, $"the store at {store.Root} was made without root: its layers mount with --driver fuse");
        Kind = fuse ? StorageDriver.Fuse : StorageDriver.Overlay;
        Mounter = fuse ? new FuseOverlayMounter(layersHome, Path.Combine(store.Root, "logs"), rootless, overlayProgram) : new KernelOverlayMounter(layersHome);
        Mounts = new MountTable(store, Mounter);
    }

    public IUnionMounter Mounter { get; }

    public MountTable Mounts { get; }

    public StorageDriver Kind { get; }

    public void ApplyLayer(StrataStore store, Descriptor layer, Digest diffId, string target, IReadOnlyList<string> lowers) =>
        new ImageUnpacker(store).ApplyLayer(layer, diffId, target, new ApplyOptions { Whiteouts = WhiteoutMode.Overlay, LowerDirectories = lowers, Rootless = _rootless });

    public void Prepare(Container container, IReadOnlyList<string> lowers)
    {
        Directory.CreateDirectory(container.UpperDir);
        Directory.CreateDirectory(container.WorkDir);
        Directory.CreateDirectory(container.MergedDir);
    }

    public string Mount(Container container, IReadOnlyList<LayerInfo> stack) =>
        Mounts.Mount(container.MergedDir, Fit(stack), container.UpperDir, container.WorkDir);

    /// <summary>overlayfs stacks at most 500 lowers (OVL_MAX_STACK); a container needs one more for its upper.</summary>
    public const int MaxLowers = 499;

    /// <summary>
    /// A stack deeper than the kernel takes still mounts: its bottom layers are flattened once into one directory
    /// (overlay/flat-CHAINID, read through the union view, cached) that stands in for them as the lowest lower.
    /// </summary>
    private IReadOnlyList<LayerInfo> Fit(IReadOnlyList<LayerInfo> stack)
    {
        if (stack.Count <= MaxLowers || Kind == StorageDriver.Fuse) return stack;
        int merged = stack.Count - MaxLowers + 1;
        var bottom = stack[merged - 1];
        var name = "flat-" + bottom.ChainId.Encoded;
        var dir = Path.Combine(_layersHome, name);
        if (!Directory.Exists(dir))
        {
            var staging = Path.Combine(_layersHome, ".staging-" + name + "-" + Environment.ProcessId);
            Directory.CreateDirectory(staging);
            var topFirst = stack.Take(merged).Reverse().Select(l => LayerStore.DiffDirOf(_layersHome, l.Dir)).ToList();
            LayerApplier.Apply(staging, UnionExport.Entries(new UnionView(topFirst, _rootless)));
            try { Directory.Move(staging, dir); }
            catch (IOException) when (Directory.Exists(dir)) { Directory.Delete(staging, recursive: true); } // another process won
        }
        var flat = bottom with { Dir = name, Link = "../" + name };
        return [flat, .. stack.Skip(merged)];
    }

    public bool Unmount(Container container, bool force) => Mounts.Unmount(container.MergedDir, force);

    public bool IsMounted(Container container) => MountTable.IsMounted(container.MergedDir);

    public string View(IReadOnlyList<LayerInfo> stack, IReadOnlyList<string> lowers, string target) => Mounts.Mount(target, Fit(stack));

    public void ReleaseView(string target, bool force)
    {
        if (!MountTable.IsMounted(target)) throw StrataException.NotFound("the image is not mounted");
        Mounts.Unmount(target, force);
    }

    UnionView IStorageDriver.Reader(Container container, IReadOnlyList<string> lowers) => new([container.UpperDir, .. lowers], _rootless);

    public IReadOnlyList<Change> Changes(Container container, IReadOnlyList<string> lowers) => ContainerChanges.Of(container, lowers, _rootless);

    public IEnumerable<TarEntry> LayerEntries(Container container, IReadOnlyList<string> lowers) =>
        OverlayUpperDiffer.Diff(container.UpperDir, lowers, _rootless);

    public long WritableSize(Container container) => SpaceUsage.DirectorySize(container.UpperDir);
}
