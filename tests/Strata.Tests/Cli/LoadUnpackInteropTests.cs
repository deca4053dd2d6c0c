using System.Text.Json;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>
/// Images the peers made load into strata, and strata's unpack gives the rootfs umoci gives, bit for bit.
/// </summary>
public class LoadUnpackInteropTests
{
    public static TheoryData<string, string> Sources => new()
    {
        { "busybox", "layout" }, { "busybox", "oci-archive" }, { "busybox", "docker-archive" }, { "busybox", "zstd" },
        { "kitchensink", "layout" }, { "kitchensink", "oci-archive" }, { "kitchensink", "docker-archive" }, { "kitchensink", "zstd" },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void UnpackMatchesUmoci(string image, string form)
    {
        Requires.Root();
        Requires.Tool("umoci");
        Requires.Tool("skopeo");
        var sample = SampleImages.Get(image);
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var input = form switch
        {
            "layout" => sample.LayoutDir,
            "oci-archive" => sample.OciArchive,
            "zstd" => sample.ZstdLayoutDir,
            _ => sample.DockerArchive,
        };
        var id = StrataCli.Run(root, "load", "-q", "-i", input).Ok().Stdout.Trim();
        Assert.StartsWith("sha256:", id);
        var target = tmp.CreateDirectory("rootfs");
        StrataCli.Run(root, "unpack", id, target).Ok();
        var differences = TreeComparer.Compare(sample.RootfsFromUmoci, target);
        Assert.True(differences.Count == 0, string.Join('\n', differences.Take(40)));
    }

    [Fact]
    public void TheThreeFormsGiveOneImageId()
    {
        Requires.Tool("skopeo");
        var sample = SampleImages.Get("kitchensink");
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var ids = new[] { sample.LayoutDir, sample.OciArchive, sample.DockerArchive }
            .Select(input => StrataCli.Run(root, "load", "-q", "-i", input).Ok().Stdout.Trim())
            .ToList();
        Assert.Single(ids.Distinct());
        using var doc = JsonDocument.Parse(StrataCli.Run(root, "images", "--format", "json").Ok().Stdout);
        Assert.Equal(1, doc.RootElement.GetArrayLength());
    }

    [Fact]
    public void LoadThenSaveKeepsEveryDigest()
    {
        Requires.Tool("skopeo");
        var sample = SampleImages.Get("kitchensink");
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "load", "-q", "-i", sample.LayoutDir).Ok().Stdout.Trim();
        var outDir = tmp.CreateDirectory("saved");
        StrataCli.Run(root, "tag", id, "localhost/kitchensink:v1").Ok();
        StrataCli.Run(root, "save", "--format", "oci-dir", "-o", outDir, "localhost/kitchensink:v1").Ok();

        var original = ManifestDigest(sample.LayoutDir, sample.Tag);
        var saved = ManifestDigest(outDir, "localhost/kitchensink:v1");
        Assert.Equal(original, saved);
        foreach (var blob in Directory.EnumerateFiles(Path.Combine(outDir, "blobs", "sha256")))
        {
            var original_ = Path.Combine(sample.LayoutDir, "blobs", "sha256", Path.GetFileName(blob));
            Assert.True(File.Exists(original_), $"saved blob {Path.GetFileName(blob)} is not in the original layout");
            Assert.Equal(File.ReadAllBytes(original_), File.ReadAllBytes(blob));
        }
    }

    internal static string ManifestDigest(string layout, string refName)
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        foreach (var m in index.RootElement.GetProperty("manifests").EnumerateArray())
        {
            if (m.TryGetProperty("annotations", out var a) && a.TryGetProperty("org.opencontainers.image.ref.name", out var r) && r.GetString() == refName)
                return m.GetProperty("digest").GetString()!;
        }
        throw new InvalidOperationException($"{layout} has no manifest named {refName}");
    }
}
