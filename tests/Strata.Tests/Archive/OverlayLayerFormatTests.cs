using Strata.Archive;
using Strata.Archive.Compression;
using Strata.Archive.Tar;
using Strata.Oci;
using Strata.Tests.Infrastructure;
using static Strata.Tests.Archive.L;

namespace Strata.Tests.Archive;

/// <summary>
/// Layers applied in overlay mode, one directory each and stacked by the kernel's overlayfs, show exactly
/// the tree a flattened unpack gives (the kernel is the oracle for the markers).
/// </summary>
public class OverlayLayerFormatTests
{
    private static List<string> ApplyOverlayLayers(TempDir tmp, IReadOnlyList<Func<IEnumerable<TarEntry>>> layers)
    {
        var dirs = new List<string>();
        for (int i = 0; i < layers.Count; i++)
        {
            var dir = tmp.CreateDirectory($"layer{i}");
            var lowers = Enumerable.Reverse(dirs).ToList();
            LayerApplier.Apply(dir, layers[i](), new ApplyOptions { Whiteouts = WhiteoutMode.Overlay, LowerDirectories = lowers });
            dirs.Add(dir);
        }
        return dirs;
    }

    private static string Mount(TempDir tmp, List<string> dirs)
    {
        var merged = tmp.CreateDirectory("merged");
        var lowerdir = string.Join(':', Enumerable.Reverse(dirs));
        if (dirs.Count == 1) lowerdir += ":" + tmp.CreateDirectory("empty"); // overlayfs needs two lowers without an upper
        Tool.Run("mount", "-t", "overlay", "overlay", "-o", $"ro,lowerdir={lowerdir}", merged);
        return merged;
    }

    [Fact]
    public void WhiteoutsOpaquesAndImpliedDirectories()
    {
        Requires.Root();
        Requires.Overlay();
        using var tmp = new TempDir();
        Func<IEnumerable<TarEntry>>[] layers =
        [
            () => [Dir("d", "750"), File("d/a"), File("d/b"), Dir("gone"), File("gone/x"), Dir("opq"), File("opq/old"), Dir("re"), File("re/old"), File("top")],
            () => [File("d/new"), Wh("d/.wh.a"), Wh(".wh.gone"), Dir("opq"), File("opq/new"), Wh("opq/.wh..wh..opq"), Wh("opq/.wh.old"),
                   Wh(".wh.re"), Dir("re"), File("re/fresh"), Wh(".wh.top"), File("top", "again")],
        ];
        var flat = tmp.CreateDirectory("flat");
        foreach (var layer in layers) LayerApplier.Apply(flat, layer());
        var merged = Mount(tmp, ApplyOverlayLayers(tmp, layers));
        try
        {
            var diff = TreeComparer.Compare(flat, merged, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
            Assert.True(diff.Count == 0, string.Join('\n', diff));
        }
        finally
        {
            Tool.Run("umount", merged);
        }
    }

    [Theory]
    [InlineData("busybox")]
    [InlineData("kitchensink")]
    public void SampleImageStackedByTheKernelEqualsUmociRootfs(string image)
    {
        Requires.Overlay();
        var sample = SampleImages.Get(image);
        using var tmp = new TempDir();
        var manifest = System.Text.Json.JsonDocument.Parse(System.IO.File.ReadAllBytes(Path.Combine(sample.LayoutDir, "blobs", "sha256",
            Strata.Tests.Cli.LoadUnpackInteropTests.ManifestDigest(sample.LayoutDir, sample.Tag)["sha256:".Length..])));
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray()
            .Select(l => Path.Combine(sample.LayoutDir, "blobs", "sha256", l.GetProperty("digest").GetString()!["sha256:".Length..]))
            .Select<string, Func<IEnumerable<TarEntry>>>(path => () => Read(path)).ToList();
        var merged = Mount(tmp, ApplyOverlayLayers(tmp, layers));
        try
        {
            var diff = TreeComparer.Compare(sample.RootfsFromUmoci, merged, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
            Assert.True(diff.Count == 0, string.Join('\n', diff.Take(30)));
        }
        finally
        {
            Tool.Run("umount", merged);
        }
    }

    private static IEnumerable<TarEntry> Read(string blob)
    {
        using var f = System.IO.File.OpenRead(blob);
        using var plain = LayerStreams.OpenDecompressed(f, out _);
        using var reader = new TarReader(plain);
        foreach (var e in reader.Entries()) yield return e;
    }
}
