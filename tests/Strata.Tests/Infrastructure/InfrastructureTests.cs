using System.Text.Json;

namespace Strata.Tests.Infrastructure;

/// <summary>Proves the test fixtures themselves: a broken fixture would make every other test meaningless.</summary>
public class InfrastructureTests
{
    [Theory]
    [InlineData("busybox", 1)]
    [InlineData("kitchensink", 3)]
    public void SampleImageExistsInEveryForm(string name, int layers)
    {
        var image = SampleImages.Get(name);
        foreach (var reference in new[]
                 {
                     image.OciReference, $"docker-archive:{image.DockerArchive}", $"oci-archive:{image.OciArchive}:{image.Tag}",
                     $"oci:{image.ZstdLayoutDir}:{image.Tag}",
                 })
        {
            using var inspect = Json(Tool.Run("skopeo", "inspect", reference).Stdout);
            Assert.Equal(layers, inspect.RootElement.GetProperty("Layers").GetArrayLength());
        }
        Assert.True(Directory.Exists(Path.Combine(image.RootfsFromUmoci, "bin")) || name != "busybox");
    }

    [Theory]
    [InlineData("busybox")]
    [InlineData("kitchensink")]
    public void UmociTagsTheManifestWithRefName(string name)
    {
        var image = SampleImages.Get(name);
        using var index = Json(File.ReadAllText(Path.Combine(image.LayoutDir, "index.json")));
        var manifest = Assert.Single(index.RootElement.GetProperty("manifests").EnumerateArray());
        Assert.Equal(image.Tag, manifest.GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString());
    }

    [Fact]
    public void BusyboxHasShellLinksUsersAndConfig()
    {
        var image = SampleImages.Get("busybox");
        var root = image.RootfsFromUmoci;
        Assert.Equal("/bin/busybox", new FileInfo(Path.Combine(root, "bin/sh")).LinkTarget);
        Assert.Equal(0x3FFu, Native.LStat(Path.Combine(root, "tmp")).Permissions);
        Assert.StartsWith("root:x:0:0:", File.ReadAllText(Path.Combine(root, "etc/passwd")), StringComparison.Ordinal);

        using var config = Json(Tool.Run("skopeo", "inspect", "--config", image.OciReference).Stdout);
        var c = config.RootElement.GetProperty("config");
        Assert.Equal(["/bin/sh"], c.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains(c.GetProperty("Env").EnumerateArray(), e => e.GetString()!.StartsWith("PATH=", StringComparison.Ordinal));
        Assert.Equal("busybox", c.GetProperty("Labels").GetProperty("org.strata.test.fixture").GetString());
    }

    [Fact]
    public void KitchensinkRootfsHasEveryEntryKind()
    {
        var root = SampleImages.Get("kitchensink").RootfsFromUmoci;
        FileStat S(string p) => Native.LStat(Path.Combine(root, p));

        Assert.Equal(S("links/tri-1").Ino, S("links/tri-3").Ino);
        Assert.Equal(3u, S("links/tri-2").Nlink);
        Assert.Equal((1u, 3u), (S("special/null").RdevMajor, S("special/null").RdevMinor));
        Assert.Equal("block-device", S("special/loop200").TypeName);
        Assert.Equal("fifo", S("special/fifo").TypeName);
        Assert.Equal(Convert.ToUInt32("4755", 8), S("modes/suid-file").Permissions);
        Assert.Equal(3000000u, S("owners/big-uid").Uid);
        Assert.Equal(64u << 20, S("sparse/sparse").Size);
        Assert.Equal([0xff, 0x00, 0xfe, 0x80], Native.LXattrs(Path.Combine(root, "xattr/binary"))["user.bin"]);
        Assert.True(File.Exists(Path.Combine(root, "names", "caf\u00e9-\u65e5\u672c.txt")));
        Assert.Single(Directory.GetFiles(Path.Combine(root, "names")), f => Path.GetFileName(f).Length == 200);
        if (Tool.Exists("setcap"))
            Assert.Equal(20, Native.LXattrs(Path.Combine(root, "xattr/capability"))["security.capability"].Length);

        // Layer 2 applied, layer 3 added.
        Assert.False(File.Exists(Path.Combine(root, "l2/delete-me.txt")));
        Assert.False(Directory.Exists(Path.Combine(root, "l2/tree")));
        Assert.Equal(["new"], Directory.GetFileSystemEntries(Path.Combine(root, "l2/opaque")).Select(Path.GetFileName));
        Assert.True(S("l2/file-to-dir").IsDirectory);
        Assert.True(S("l2/link-to-file").IsRegular);
        Assert.Equal("modified\n", File.ReadAllText(Path.Combine(root, "l2/modify.txt")));
        Assert.True(File.Exists(Path.Combine(root, "added-in-layer-3.txt")));

        // umoci's tar writer keeps whole seconds only; GNU tar's pax layer 3 keeps the nanoseconds.
        Assert.Equal((1577934245L, 0u), (S("time/ns").MtimeSec, S("time/ns").MtimeNsec));
        Assert.Equal((1577934245L, 123456789u), (S("ns-mtime.txt").MtimeSec, S("ns-mtime.txt").MtimeNsec));
    }

    // Documents umoci 0.4.7: a deleted-then-recreated directory becomes one .wh. per old child, never .wh..wh..opq.
    [Fact]
    public void UmociWritesPerEntryWhiteoutsAndNoOpaqueMarker()
    {
        var image = SampleImages.Get("kitchensink");
        var entries = Tool.Run("bsdtar", "-tzf", LayerBlob(image, 1)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("l2/.wh.delete-me.txt", entries);
        Assert.Contains("l2/.wh.tree", entries);
        Assert.Contains("l2/opaque/.wh.old1", entries);
        Assert.Contains("l2/opaque/.wh.sub", entries);
        Assert.DoesNotContain(entries, e => e.EndsWith(".wh..wh..opq", StringComparison.Ordinal));
    }

    [Fact]
    public void KitchensinkHistoryHasAnEmptyLayerBetweenLayers()
    {
        var image = SampleImages.Get("kitchensink");
        using var config = Json(Tool.Run("skopeo", "inspect", "--config", image.OciReference).Stdout);
        var emptyFlags = config.RootElement.GetProperty("history").EnumerateArray()
            .Select(h => h.TryGetProperty("empty_layer", out var e) && e.GetBoolean()).ToList();
        Assert.Equal([false, false, true, false], emptyFlags);
    }

    [Fact]
    public void ZstdVariantHasZstdLayers()
    {
        var image = SampleImages.Get("busybox");
        using var manifest = Json(Tool.Run("skopeo", "inspect", "--raw", $"oci:{image.ZstdLayoutDir}:{image.Tag}").Stdout);
        Assert.All(manifest.RootElement.GetProperty("layers").EnumerateArray(),
            l => Assert.Equal("application/vnd.oci.image.layer.v1.tar+zstd", l.GetProperty("mediaType").GetString()));
    }

    private static string LayerBlob(SampleImage image, int index)
    {
        using var manifest = Json(Tool.Run("skopeo", "inspect", "--raw", image.OciReference).Stdout);
        var digest = manifest.RootElement.GetProperty("layers")[index].GetProperty("digest").GetString()!;
        return Path.Combine(image.LayoutDir, "blobs", "sha256", digest["sha256:".Length..]);
    }

    internal static JsonDocument Json(string text) => JsonDocument.Parse(text);
}
