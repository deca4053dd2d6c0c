using Strata.Archive;
using Strata.Archive.Changes;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Images;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Union;

/// <summary>The kernel's overlayfs: a layer per directory in overlay form, a container is an empty upper directory.</summary>
public sealed class OverlayDriver(StrataStore store, string layersHome) : IStorageDriver
{
    public OverlayMounts Mounts { get; } = new(store, layersHome);

    public StorageDriver Kind => StorageDriver.Overlay;

    public void ApplyLayer(StrataStore store, Descriptor layer, Digest diffId, string target, IReadOnlyList<string> lowers) =>
        new ImageUnpacker(store).ApplyLayer(layer, diffId, target, new ApplyOptions { Whiteouts = WhiteoutMode.Overlay, LowerDirectories = lowers });

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
        if (stack.Count <= MaxLowers) return stack;
        int merged = stack.Count - MaxLowers + 1;
        var bottom = stack[merged - 1];
        var name = "flat-" + bottom.ChainId.Encoded;
        var dir = Path.Combine(layersHome, name);
        if (!Directory.Exists(dir))
        {
            var staging = Path.Combine(layersHome, ".staging-" + name + "-" + Environment.ProcessId);
            Directory.CreateDirectory(staging);
            var topFirst = stack.Take(merged).Reverse().Select(l => Path.Combine(layersHome, l.Dir, "diff")).ToList();
            LayerApplier.Apply(staging, UnionExport.Entries(new UnionView(topFirst)));
            try { Directory.Move(staging, dir); }
            catch (IOException) when (Directory.Exists(dir)) { Directory.Delete(staging, recursive: true); } // another process won
        }
        var flat = bottom with { Dir = name, Link = "../" + name };
        return [flat, .. stack.Skip(merged)];
    }

    public bool Unmount(Container container, bool force) => Mounts.Unmount(container.MergedDir, force);

    public bool IsMounted(Container container) => Mounts.IsMounted(container.MergedDir);

    public string View(IReadOnlyList<LayerInfo> stack, IReadOnlyList<string> lowers, string target) => Mounts.Mount(target, Fit(stack));

    public void ReleaseView(string target, bool force)
    {
        if (!Mounts.IsMounted(target)) throw StrataException.NotFound("the image is not mounted");
        Mounts.Unmount(target, force);
    }

    UnionView IStorageDriver.Reader(Container container, IReadOnlyList<string> lowers) => new([container.UpperDir, .. lowers]);

    public IReadOnlyList<Change> Changes(Container container, IReadOnlyList<string> lowers) => ContainerChanges.Of(container, lowers);

    public IEnumerable<TarEntry> LayerEntries(Container container, IReadOnlyList<string> lowers) =>
        OverlayUpperDiffer.Diff(container.UpperDir, lowers);

    public long WritableSize(Container container) => SpaceUsage.DirectorySize(container.UpperDir);
}
