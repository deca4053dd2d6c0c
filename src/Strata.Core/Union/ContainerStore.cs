using Strata.Archive;
using System.Globalization;
using System.Security.Cryptography;
using Strata.Errors;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// Containers in the store. Creating one writes a row and three empty directories: no image data is copied,
/// so it costs the same whatever the image's size; fifty containers of one image share its layers.
/// </summary>
internal sealed class ContainerStore
{
    private readonly StrataStore _store;

    private ContainerStore(StrataStore store, IStorageDriver driver, LayerStore layers)
    {
        _store = store;
        Home = Path.Combine(store.Root, "containers");
        Driver = driver;
        Layers = layers;
    }

    /// <summary>
    /// The store's containers under its driver: makes the directories a new store lacks and takes off FUSE mounts
    /// whose daemon died, so any command after a crash finds a clean table.
    /// </summary>
    /// <param name="requestedDriver">--driver: null takes the store's (or, for a new store, the best available).</param>
    /// <param name="recordDriver">False for commands that only look (rmi, df): they must not fix a new store's driver.</param>
    /// <param name="overlayProgram">The strata executable that serves FUSE mounts (null: see <see cref="Fuse.FuseDaemon"/>).</param>
    public static ContainerStore Open(StrataStore store, StorageDriver? requestedDriver = null, bool recordDriver = true, string? overlayProgram = null)
    {
        var kind = StorageDrivers.Resolve(store, requestedDriver, recordDriver);
        IStorageDriver driver = kind == StorageDriver.Vfs
            ? new VfsDriver()
            : new OverlayDriver(store, Path.Combine(store.Root, "overlay"), fuse: kind == StorageDriver.Fuse, rootless: StorageDrivers.IsRootless(store), overlayProgram);
        var layers = LayerStore.Open(store, driver);
        var containers = new ContainerStore(store, driver, layers);
        Directory.CreateDirectory(containers.Home);
        if (driver is OverlayDriver overlay) overlay.Mounts.Sweep();
        return containers;
    }

    public string Home { get; }
    public IStorageDriver Driver { get; }
    public LayerStore Layers { get; }

    public Container Create(LocalImage image, string? name, Action<string>? progress = null)
    {
        if (name is not null && !IsValidName(name)) throw StrataException.BadArgument($"invalid container name \"{name}\": [a-zA-Z0-9][a-zA-Z0-9_.-]*");
        var stack = Layers.EnsureImage(image, progress);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var record = new ContainerRecord(id, name ?? DefaultName(id), image.Id, DateTimeOffset.UtcNow);
        var c = ToContainer(record);
        Driver.Prepare(c, TopFirst(stack));
        if (!_store.Containers.TryAdd(record))
        {
            Directory.Delete(c.Directory, recursive: true);
            throw new StrataException(ErrorKind.AlreadyExists, $"the container name \"{c.Name}\" is already in use");
        }
        return c;
    }

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

    public IReadOnlyList<LayerInfo> Stack(Container c) => Layers.EnsureImage(_store.Resolve(c.ImageId.ToString()));

    /// <summary>The container's merged view, read without mounting: its upper layer over the image's layers.</summary>
    private List<string> TopFirst(IReadOnlyList<LayerInfo> stack) => Enumerable.Reverse(stack).Select(Layers.DiffDir).ToList();

    private List<string> Lowers(Container c) => TopFirst(Stack(c));

    /// <summary>The container's merged view, read without mounting.</summary>
    internal UnionView View(Container c) => Driver.Reader(c, Lowers(c));

    /// <summary>What changed, as docker diff prints it.</summary>
    public IReadOnlyList<Change> Changes(Container c) => Driver.Changes(c, Lowers(c));

    /// <summary>The container's changes as layer entries (whiteouts, opaque markers), for commit.</summary>
    public IEnumerable<Archive.Tar.TarEntry> LayerEntries(Container c) => Driver.LayerEntries(c, Lowers(c));

    public long WritableSize(Container c) => Driver.WritableSize(c);

    public bool IsMounted(Container c) => Driver.IsMounted(c);

    /// <summary>docker export: the flattened merged filesystem as a tar.</summary>
    public void Export(Container c, Stream output)
    {
        using var tar = new Archive.Tar.TarWriter(output, leaveOpen: true);
        foreach (var entry in UnionExport.Entries(View(c))) tar.Write(entry, entry.Data);
    }

    /// <summary>The merged view's path (vfs: the container's own tree, nothing to mount).</summary>
    public string Mount(Container c) => Driver.Mount(c, Stack(c));

    public bool Unmount(Container c, bool force = false) => Driver.Unmount(c, force);

    /// <summary>A read-only view of an image.</summary>
    public string MountImage(LocalImage image, string target)
    {
        var stack = Layers.EnsureImage(image);
        return Driver.View(stack, TopFirst(stack), target);
    }

    public void UnmountImage(string target, bool force) => Driver.ReleaseView(target, force);

    /// <summary>Removes the writable layer for good; the image and its layers stay.</summary>
    public void Remove(Container c, bool force)
    {
        if (IsMounted(c))
        {
            if (!force) throw new StrataException(ErrorKind.Conflict, $"container {c.Name} is mounted: umount it or use --force");
            Driver.Unmount(c, force: true);
        }
        _store.Containers.Delete(c.Id);
        if (Directory.Exists(c.Directory)) Directory.Delete(c.Directory, recursive: true);
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
