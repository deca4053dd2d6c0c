using System.Security.Cryptography;
using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Union;

/// <summary>
/// Layers unpacked once per ChainID into overlay/DIR/diff in overlayfs form, shared by every image and container
/// that stacks them. A layer is built in overlay/.staging-*, renamed into place, then recorded; a crash leaves
/// only a staging directory, removed at the next start. overlay/l/LINK -> ../DIR/diff keeps mount options short.
/// </summary>
internal sealed class LayerStore
{
    private readonly StrataStore _store;

    public LayerStore(StrataStore store, IStorageDriver driver)
    {
        _store = store;
        Driver = driver;
        Home = Path.Combine(store.Root, "overlay");
        Directory.CreateDirectory(Path.Combine(Home, "l"));
        Directory.CreateDirectory(Path.Combine(Home, "empty"));
        foreach (var stale in Directory.EnumerateDirectories(Home, ".staging-*"))
            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(stale) > TimeSpan.FromHours(1)) Directory.Delete(stale, recursive: true);
    }

    public string Home { get; }
    public IStorageDriver Driver { get; }

    public string DiffDir(LayerInfo layer) => Path.Combine(Home, layer.Dir, "diff");

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
        Directory.CreateDirectory(Path.Combine(staging, "diff"));
        try
        {
            var lowers = Enumerable.Reverse(lowersBaseFirst).Select(DiffDir).ToList();
            Driver.ApplyLayer(_store, desc, diffId, Path.Combine(staging, "diff"), lowers);
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
