using System.Security.Cryptography;
using Strata.Archive;
using Strata.Errors;
using Strata.Oci;
using Strata.Snapshots;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// Containers in the store: each an active snapshot on its image's top layer, mounted by the driver's mounter (the
/// kernel's overlayfs, the FUSE union, or nothing: a bind is read where it is). Creating one writes a row and an
/// empty writable layer (overlay): no image data is copied, so fifty containers of one image share its layers.
/// </summary>
internal sealed class ContainerStore
{
    private readonly StrataStore _store;
    private readonly IUnionMounter? _mounter;
    private readonly MountTable? _mounts;

    private ContainerStore(StrataStore store, ISnapshotter snapshotter, IUnionMounter? mounter, bool rootless)
    {
        _store = store;
        Home = Path.Combine(store.Root, "containers");
        Snapshotter = snapshotter;
        Rootless = rootless;
        _mounter = mounter;
        _mounts = mounter is null ? null : new MountTable(store, mounter);
        Layers = new LayerStore(store, snapshotter, rootless);
    }

    /// <summary>
    /// The store's containers under its driver (or a snapshotter of the caller's, mounted as the driver says); takes
    /// off FUSE mounts whose daemon died, so any command after a crash finds a clean table.
    /// </summary>
    /// <param name="requestedDriver">--driver: null takes the store's (or, for a new store, the best available).</param>
    /// <param name="recordDriver">False for commands that only look (rmi, df): they must not fix a new store's driver.</param>
    /// <param name="overlayProgram">The strata executable that serves FUSE mounts (null: see <see cref="Fuse.FuseDaemon"/>).</param>
    /// <param name="snapshotter">A snapshotter of the caller's instead of the store's own.</param>
    public static ContainerStore Open(StrataStore store, StorageDriver? requestedDriver = null, bool recordDriver = true, string? overlayProgram = null,
        ISnapshotter? snapshotter = null)
    {
        var kind = snapshotter is null ? StorageDrivers.Resolve(store, requestedDriver, recordDriver) : requestedDriver ?? StorageDrivers.Best();
        bool rootless = snapshotter is null && kind != StorageDriver.Vfs && StorageDrivers.IsRootless(store);
        if (rootless && kind == StorageDriver.Overlay)
            throw new StrataException(ErrorKind.FailedPrecondition, $"the store at {store.Root} was made without root: its layers mount with --driver fuse");
        snapshotter ??= kind == StorageDriver.Vfs ? new VfsSnapshotter(store) : new OverlaySnapshotter(store, rootless);
        IUnionMounter? mounter = kind switch
        {
            StorageDriver.Overlay => new KernelOverlayMounter(),
            StorageDriver.Fuse => new FuseOverlayMounter(Path.Combine(store.Root, "logs"), rootless, overlayProgram),
            _ => null,
        };
        var containers = new ContainerStore(store, snapshotter, mounter, rootless);
        containers._mounts?.Sweep();
        return containers;
    }

    public string Home { get; }
    public ISnapshotter Snapshotter { get; }
    public LayerStore Layers { get; }

    /// <summary>The store's layers are in <see cref="RootlessForm"/>.</summary>
    public bool Rootless { get; }

    /// <summary>
    /// A new container on the image. A lease holds the image's blobs and layers and the writable layer from unpacking
    /// to recording, so a collection cannot take them in between; an rmi racing it either fails (the container came
    /// first) or makes this fail (the image went first), never leaves a container without its image.
    /// </summary>
    public Container Create(LocalImage image, string? name, Action<string>? progress = null)
    {
        if (name is not null && !IsValidName(name)) throw StrataException.BadArgument($"invalid container name \"{name}\": [a-zA-Z0-9][a-zA-Z0-9_.-]*");
        using var lease = _store.BeginLease();
        if (!lease.Hold(image)) throw ImageGone(image); // removed, and maybe collected, before the lease
        var top = TopLayer(image, progress);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var record = new ContainerRecord(id, name ?? DefaultName(id), image.Id, DateTimeOffset.UtcNow);
        lease.Hold(RefKind.Snapshot, [id]);
        Snapshotter.Prepare(id, top);
        var added = _store.Containers.TryAdd(record);
        if (added == ContainerAdd.Added)
        {
            (Snapshotter as DirectorySnapshotter)?.Release(id); // its row keeps it now
            return ToContainer(record);
        }
        Snapshotter.Remove(id);
        throw added == ContainerAdd.NameTaken
            ? new StrataException(ErrorKind.AlreadyExists, $"the container name \"{record.Name}\" is already in use")
            : ImageGone(image);
    }

    private static StrataException ImageGone(LocalImage image) =>
        StrataException.NotFound($"image {image.Id.Short} was removed while the container was being created");

    public IReadOnlyList<Container> List() => _store.Containers.List().Select(ToContainer).ToList();

    private Container ToContainer(ContainerRecord r) => new(r.Id, r.Name, r.ImageId, r.Created, Path.Combine(Home, r.Id));

    /// <summary>By name, full ID or unique ID prefix.</summary>
    public Container Resolve(string nameOrId)
    {
        var byName = _store.Containers.ByName(nameOrId);
        if (byName.Count == 1) return ToContainer(byName[0]);
        var byId = nameOrId.Length >= 3 && nameOrId.All(char.IsAsciiHexDigitLower) ? _store.Containers.ByIdPrefix(nameOrId) : [];
        return byId.Count switch
        {
            1 => ToContainer(byId[0]),
            0 => throw StrataException.NotFound($"no such container: {nameOrId}"),
            _ => throw new StrataException(ErrorKind.Conflict, $"container ID prefix {nameOrId} is ambiguous"),
        };
    }

    /// <summary>The image's top layer's key (its layers unpacked if they are not), or null for an image of no layers.</summary>
    private string? TopLayer(LocalImage image, Action<string>? progress = null) =>
        Layers.EnsureImage(image, progress) is [.., var top] ? top.ToString() : null;

    /// <summary>The container's parent layer's mounts (read-only), or null when it stacks on nothing.</summary>
    private IReadOnlyList<MountSpec>? ParentMounts(Container c) =>
        Snapshotter.Stat(c.Id)?.Parent is { } parent ? Snapshotter.Mounts(parent) : null;

    /// <summary>The container's merged view, read without mounting.</summary>
    internal UnionView View(Container c) => SnapshotMounts.Reader(Snapshotter.Mounts(c.Id), Rootless);

    /// <summary>What changed, as docker diff prints it.</summary>
    public IReadOnlyList<Change> Changes(Container c) => SnapshotMounts.Changes(Snapshotter.Mounts(c.Id), ParentMounts(c), Rootless);

    /// <summary>The container's changes as layer entries (whiteouts, opaque markers), for commit.</summary>
    public IEnumerable<Archive.Tar.TarEntry> LayerEntries(Container c) => SnapshotMounts.LayerEntries(Snapshotter.Mounts(c.Id), ParentMounts(c), Rootless);

    public long WritableSize(Container c) => Snapshotter.Stat(c.Id) is null ? 0 : Snapshotter.Usage(c.Id).Size;

    public bool IsMounted(Container c) => _mounts is not null && MountTable.IsMounted(c.MergedDir);

    /// <summary>Mounted by a FUSE daemon that died: left so only where the sweep could not run (a read-only store).</summary>
    public bool IsMountDead(Container c) => _mounts is not null && Fuse.FuseMount.IsDead(c.MergedDir);

    /// <summary>docker export: the flattened merged filesystem as a tar, what comes from the image's layers verified as it streams.</summary>
    public void Export(Container c, Stream output)
    {
        var mounts = Snapshotter.Mounts(c.Id);
        var verifier = LayerVerifier.For(_store, Snapshotter, Snapshotter.Stat(c.Id)?.Parent, SnapshotMounts.Layers(mounts));
        using var tar = new Archive.Tar.TarWriter(output, leaveOpen: true);
        foreach (var entry in UnionExport.Entries(SnapshotMounts.Reader(mounts, Rootless), verifier is null ? null : verifier.Check)) tar.Write(entry, entry.Data);
    }

    /// <summary>The merged view's path: mounted, or (a bind with no mounter) the tree where it is.</summary>
    public string Mount(Container c) => MountAt(c.MergedDir, Snapshotter.Mounts(c.Id));

    public bool Unmount(Container c, bool force = false) => _mounts is null || _mounts.Unmount(c.MergedDir, force);

    /// <summary>Where an image's read-only view is mounted.</summary>
    public string ImageMountPoint(Digest image) => Path.Combine(_store.Root, "image-mounts", image.Encoded);

    private static string ViewKey(Digest image) => "view-" + image.Encoded;

    /// <summary>A read-only view of an image, mounted at <see cref="ImageMountPoint"/> (or, with no mounter, its tree where it is).</summary>
    public string MountImage(LocalImage image)
    {
        var key = ViewKey(image.Id);
        using var lease = _store.BeginLease();
        if (!lease.Hold(image)) throw ImageGone(image);
        var top = TopLayer(image);
        lease.Hold(RefKind.Snapshot, [key]); // from here no prune takes the view, mounted or not yet
        if (Snapshotter.Stat(key) is null)
        {
            try { Snapshotter.View(key, top); }
            catch (StrataException e) when (e.Kind == ErrorKind.AlreadyExists) { } // another process made it meanwhile
        }
        return MountAt(ImageMountPoint(image.Id), Snapshotter.Mounts(key));
    }

    /// <summary>Counts one user of an image's view less; the last one unmounts it and removes the view.</summary>
    public void UnmountImage(Digest image, bool force)
    {
        var key = ViewKey(image);
        var target = ImageMountPoint(image);
        if (Snapshotter.Stat(key) is null) throw StrataException.NotFound("the image is not mounted");
        if (_mounts is not null)
        {
            if (!MountTable.IsMounted(target)) throw StrataException.NotFound("the image is not mounted");
            if (!_mounts.Unmount(target, force)) return;
        }
        Snapshotter.Remove(key);
        if (Directory.Exists(target)) Directory.Delete(target);
    }

    private string MountAt(string target, IReadOnlyList<MountSpec> mounts)
    {
        if (_mounts is not null) return _mounts.Mount(target, mounts);
        return mounts is [{ Type: "bind" } bind] ? bind.Source
            : throw new StrataException(ErrorKind.Unsupported, $"the {Snapshotter.Name} snapshotter's mounts need a mounting driver (overlay or fuse)");
    }

    /// <summary>Removes the writable layer for good; the image and its layers stay.</summary>
    public void Remove(Container c, bool force)
    {
        if (IsMounted(c))
        {
            if (!force) throw new StrataException(ErrorKind.Conflict, $"container {c.Name} is mounted: umount it or use --force");
            Unmount(c, force: true);
        }
        // Row first: a crash after it leaves a snapshot no container names, which prune removes.
        _store.Containers.Delete(c.Id);
        if (Snapshotter.Stat(c.Id) is not null) Snapshotter.Remove(c.Id);
        DeleteTree(c.Directory);
    }

    /// <summary>
    /// Removes the snapshots nothing keeps: layers no image references, writable layers of containers that are gone,
    /// views not mounted (see <see cref="IsLiveView"/>), unpacks whose lease is gone (a killed process's). Returns the
    /// bytes freed. The caller holds the store lock exclusive and has dropped dead leases.
    /// </summary>
    public long Collect()
    {
        var snapshots = Snapshotter.List();
        var keep = Keep(snapshots, _store.Leases.Held(RefKind.Snapshot));
        _mounts?.Tidy(Path.Combine(_store.Root, "image-mounts"));
        long freed = SnapshotCollector.Collect(Snapshotter, snapshots, keep);
        foreach (var dir in OrphanContainerDirs(keep)) DeleteTree(dir);
        return freed;
    }

    /// <summary>
    /// What <see cref="Collect()"/> would free, found without changing anything (df's leftovers): the snapshots nothing
    /// keeps but leases of <paramref name="deadLeases"/>, unnamed directories no process holds, orphan container
    /// directories. Returns how many and their bytes.
    /// </summary>
    public (int Items, long Bytes) Garbage(IReadOnlySet<string> deadLeases)
    {
        var snapshots = Snapshotter.List();
        var keep = Keep(snapshots, _store.Leases.Held(RefKind.Snapshot, deadLeases));
        var sizes = SnapshotCollector.Garbage(snapshots, keep).Select(s => Snapshotter.Usage(s.Key).Size)
            .Concat(OrphanContainerDirs(keep).Select(d => TreeUsage.Of(d).Bytes)).ToList();
        if (Snapshotter is DirectorySnapshotter directories) sizes.AddRange(directories.Orphans().Select(d => TreeUsage.Of(d).Bytes));
        return (sizes.Count, sizes.Sum());
    }

    /// <summary>The snapshots a collection keeps (with their ancestors): referenced, leased, containers', in flight, live views.</summary>
    private HashSet<string> Keep(IReadOnlyList<SnapshotInfo> snapshots, HashSet<string> leased)
    {
        var keep = _store.Images.Referenced(RefKind.Snapshot);
        keep.UnionWith(leased);
        foreach (var c in _store.Containers.List()) keep.Add(c.Id);
        foreach (var s in snapshots)
        {
            // Strata's own operations lease what they make; an active snapshot is also kept while its maker holds it.
            if ((s.Kind == SnapshotKind.Active && IsInFlight(s)) || IsLiveView(s.Key)) keep.Add(s.Key);
        }
        return keep;
    }

    /// <summary>
    /// Container directories no row names: an rm cut short after its row went (rows go first; a mount makes one only
    /// for a container with a row). Never a mounted one.
    /// </summary>
    private IEnumerable<string> OrphanContainerDirs(HashSet<string> keep) =>
        Directory.Exists(Home)
            ? Directory.EnumerateDirectories(Home).Where(dir => !keep.Contains(Path.GetFileName(dir)) && !MountTable.IsMounted(Path.Combine(dir, "merged"))).ToList()
            : [];

    /// <summary>
    /// Of a removed image's layers and view, removes those nothing keeps, children first: work in proportion to that
    /// image, not to the store. Returns the bytes freed. The caller holds the store lock exclusive.
    /// </summary>
    public long Collect(Digest removedImage, ImageRefs refs)
    {
        var pending = refs.Chains.Select(c => c.ToString()).Prepend(ViewKey(removedImage)).ToList();
        long freed = 0;
        // The chains come in no order: each pass removes those whose children went in an earlier one.
        for (bool progress = true; progress;)
        {
            progress = false;
            foreach (var key in pending.ToList())
            {
                if (Snapshotter.Stat(key) is null || _store.Images.IsReferenced(RefKind.Snapshot, key)
                    || _store.Leases.IsHeld(RefKind.Snapshot, key) || IsLiveView(key))
                {
                    pending.Remove(key);
                    continue;
                }
                long size = Snapshotter.Usage(key).Size;
                try { Snapshotter.Remove(key); }
                catch (StrataException e) when (e.Kind == ErrorKind.FailedPrecondition) { continue; } // children: maybe next pass
                freed += size;
                pending.Remove(key);
                progress = true;
            }
        }
        return freed;
    }

    /// <summary>
    /// A view lives from image mount to image umount: one not mounted is a killed mount's (or a reboot's). Without a
    /// mounter (vfs) nothing is ever mounted, and a view stays while its image does. One being mounted is leased.
    /// </summary>
    private bool IsLiveView(string key) =>
        key.StartsWith("view-", StringComparison.Ordinal) && Digest.TryParse("sha256:" + key[5..], out var image)
        && (_mounts is null ? _store.Images.Get(image) is not null : MountTable.IsMounted(ImageMountPoint(image)));

    /// <summary>
    /// An active snapshot a live process is still making (an unpack, a create before its container's row): with
    /// Strata's snapshotters its process holds it, so one a killed process left goes at once. Another snapshotter
    /// cannot say: its unpacks are given an hour.
    /// </summary>
    public bool IsInFlight(SnapshotInfo s) => Snapshotter is DirectorySnapshotter directories
        ? directories.InUse(s.Key)
        : s.Key.StartsWith(LayerStore.ExtractPrefix, StringComparison.Ordinal) && DateTimeOffset.UtcNow - s.Created < TimeSpan.FromHours(1);

    /// <summary>Deletes a tree another process may be deleting too (an rm and a prune): whichever ends first wins.</summary>
    private static void DeleteTree(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    private static bool IsValidName(string name) =>
        name.Length is > 0 and <= 128 && char.IsAsciiLetterOrDigit(name[0]) && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.' or '-');

    private static readonly string[] Adjectives = ["brave", "calm", "eager", "fond", "keen", "lucid", "merry", "nimble", "quiet", "sharp", "steady", "vivid"];
    private static readonly string[] Nouns = ["ampere", "bohr", "curie", "dirac", "euler", "fermi", "gauss", "hopper", "knuth", "lovelace", "noether", "turing"];

    /// <summary>docker-style adjective_noun names, made unique by the ID's start when needed.</summary>
    private string DefaultName(string id)
    {
        var b = Convert.FromHexString(id[..4]);
        var name = $"{Adjectives[b[0] % Adjectives.Length]}_{Nouns[b[1] % Nouns.Length]}";
        return _store.Containers.ByName(name).Count == 0 ? name : $"{name}_{id[..6]}";
    }
}
