using System.Security.Cryptography;
using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// Layers unpacked once per ChainID into overlay/DIR/diff in overlayfs form, shared by every image and container
/// that stacks them. A layer is built in overlay/.staging-*, renamed into place, then recorded; a crash leaves
/// only a staging directory, removed by a later prune. overlay/l/LINK -> ../DIR/diff keeps mount options short.
/// </summary>
internal sealed class LayerStore
{
    private readonly StrataStore _store;

    private LayerStore(StrataStore store, IStorageDriver driver)
    {
        _store = store;
        Driver = driver;
        Home = Path.Combine(store.Root, "overlay");
    }

    /// <summary>The layer store, with the directories a new store lacks made (stale staging directories go at prune).</summary>
    public static LayerStore Open(StrataStore store, IStorageDriver driver)
    {
        var layers = new LayerStore(store, driver);
        Directory.CreateDirectory(Path.Combine(layers.Home, "l"));
        Directory.CreateDirectory(Path.Combine(layers.Home, "empty"));
        return layers;
    }

    /// <summary>
    /// Removes the layers no live chain reaches (containers keep their image, so its chain too), the flattened
    /// bottoms of deep stacks that went with them, and staging directories a crashed unpack left (untouched for an
    /// hour: a live one is younger). Returns the bytes freed. The caller holds the store lock exclusive.
    /// </summary>
    public long Collect(IReadOnlySet<Digest> live)
    {
        long freed = 0;
        foreach (var layer in _store.Layers.List().Where(l => !live.Contains(l.ChainId)))
        {
            // Row first: a crash after it leaves only an unnamed directory, never a row without its files.
            _store.Layers.Delete(layer.ChainId);
            File.Delete(Path.Combine(Home, "l", layer.Link));
            if (Directory.Exists(Path.Combine(Home, layer.Dir))) Directory.Delete(Path.Combine(Home, layer.Dir), recursive: true);
            freed += layer.Size;
        }
        foreach (var flat in Directory.EnumerateDirectories(Home, "flat-*"))
            if (!Digest.TryParse("sha256:" + Path.GetFileName(flat)["flat-".Length..], out var chain) || !live.Contains(chain))
                Directory.Delete(flat, recursive: true);
        foreach (var stale in Directory.EnumerateDirectories(Home, ".staging-*"))
            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(stale) > TimeSpan.FromHours(1)) Directory.Delete(stale, recursive: true);
        return freed;
    }

    public string Home { get; }
    public IStorageDriver Driver { get; }

    public string DiffDir(LayerInfo layer) => DiffDirOf(Home, layer.Dir);

    /// <summary>Where a layer's tree lives: DIR/diff under the layers' home (overlay/).</summary>
    public static string DiffDirOf(string layersHome, string dir) => Path.Combine(layersHome, dir, "diff");

    public LayerInfo? Get(Digest chainId) => _store.Layers.Get(chainId);

    /// <summary>The image's layers, base first, unpacking those the store does not have yet.</summary>
    public IReadOnlyList<LayerInfo> EnsureImage(LocalImage image, Action<string>? progress = null)
    {
        var result = new List<LayerInfo>();
        for (int i = 0; i < image.Manifest.Layers.Count; i++)
            result.Add(EnsureLayer(image.Manifest.Layers[i], image.Config.RootFs.DiffIds[i], result, progress));
        return result;
    }

    /// <summary>One layer on top of <paramref name="below"/> (base first), unpacked unless the store has its ChainID.</summary>
    public LayerInfo EnsureLayer(Descriptor desc, Digest diffId, IReadOnlyList<LayerInfo> below, Action<string>? progress = null)
    {
        Digest? parent = below.Count > 0 ? below[^1].ChainId : null;
        var chain = ChainId.Next(parent, diffId);
        var layer = Get(chain);
        if (layer is not null && Directory.Exists(DiffDir(layer)))
        {
            progress?.Invoke($"{desc.Digest.Short}: Already exists");
            return layer;
        }
        layer = Unpack(desc, diffId, chain, parent, below);
        progress?.Invoke($"{desc.Digest.Short}: Unpacked");
        return layer;
    }

    private LayerInfo Unpack(Descriptor desc, Digest diffId, Digest chain, Digest? parent, IReadOnlyList<LayerInfo> lowersBaseFirst)
    {
        var dir = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var staging = Path.Combine(Home, ".staging-" + dir);
        var stagingDiff = DiffDirOf(Home, Path.GetFileName(staging));
        Directory.CreateDirectory(stagingDiff);
        try
        {
            var lowers = Enumerable.Reverse(lowersBaseFirst).Select(DiffDir).ToList();
            Driver.ApplyLayer(_store, desc, diffId, stagingDiff, lowers);
            Directory.Move(staging, Path.Combine(Home, dir));
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
        var link = NewLink();
        File.CreateSymbolicLink(Path.Combine(Home, "l", link), $"../{dir}/diff");
        var layer = new LayerInfo(chain, parent, diffId, dir, link, _store.Images.LayerSize(desc));
        if (!_store.Layers.TryAdd(layer))
        {
            // Another strata process unpacked the same layer meanwhile: use theirs.
            File.Delete(Path.Combine(Home, "l", link));
            Directory.Delete(Path.Combine(Home, dir), recursive: true);
            return Get(chain) ?? throw new StrataException(ErrorKind.Internal, $"layer {chain} vanished");
        }
        return layer;
    }

    /// <summary>26 base32 characters, as moby's overlay2: 128 layers of "l/LINK:" fit in one page of mount options.</summary>
    private static string NewLink()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = RandomNumberGenerator.GetBytes(26);
        return string.Create(26, bytes, (span, b) => { for (int i = 0; i < span.Length; i++) span[i] = alphabet[b[i] % 32]; });
    }
}
