using System.Text.Json;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>What strata save writes, skopeo, umoci and podman read.</summary>
public class SaveInteropTests
{
    [Theory]
    [InlineData("busybox")]
    [InlineData("kitchensink")]
    public void UmociUnpacksStrataOciDirLikeStrata(string image)
    {
        Requires.Root();
        Requires.Tool("umoci");
        var sample = SampleImages.Get(image);
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        // Loaded from the docker archive: strata must write the OCI form itself.
        var id = StrataCli.Run(root, "load", "-q", "-i", sample.DockerArchive).Ok().Stdout.Trim();
        StrataCli.Run(root, "tag", id, "localhost/sample:v1").Ok();
        var layout = tmp.CreateDirectory("layout");
        StrataCli.Run(root, "save", "--format", "oci-dir", "-o", layout, "localhost/sample:v1").Ok();

        Tool.Run("skopeo", "inspect", $"oci:{layout}:localhost/sample:v1");
        var bundle = tmp.CreateDirectory("bundle");
        Tool.Run("umoci", "unpack", "--image", $"{layout}:localhost/sample:v1", bundle);
        var differences = TreeComparer.Compare(sample.RootfsFromUmoci, Path.Combine(bundle, "rootfs"));
        Assert.True(differences.Count == 0, string.Join('\n', differences.Take(40)));
    }

    [Fact]
    public void SkopeoAndPodmanReadStrataArchives()
    {
        Requires.Root();
        Requires.Tool("podman");
        var sample = SampleImages.Get("busybox");
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "load", "-q", "-i", sample.LayoutDir).Ok().Stdout.Trim();
        StrataCli.Run(root, "tag", id, "localhost/bb:1").Ok();
        var docker = Path.Combine(tmp.Path, "bb-docker.tar");
        var oci = Path.Combine(tmp.Path, "bb-oci.tar");
        StrataCli.Run(root, "save", "-o", docker, "localhost/bb:1").Ok();
        StrataCli.Run(root, "save", "--format", "oci-archive", "-o", oci, "localhost/bb:1").Ok();

        Tool.Run("skopeo", "inspect", $"docker-archive:{docker}");
        Assert.Equal(id, Config(docker));
        Tool.Run("skopeo", "inspect", $"oci-archive:{oci}");

        // podman with a private store, so the test touches nothing of the machine's.
        var podman = new[] { "--root", tmp.CreateDirectory("podman-root"), "--runroot", tmp.CreateDirectory("podman-run"), "--storage-driver", "vfs" };
        var loaded = Tool.Run("podman", [.. podman, "load", "-i", docker]).Stdout;
        Assert.Contains("localhost/bb:1", loaded);
        var podmanId = Tool.Run("podman", [.. podman, "image", "inspect", "--format", "{{.Id}}", "localhost/bb:1"]).Stdout.Trim();
        Assert.Equal(id, "sha256:" + podmanId);
        Tool.Run("podman", [.. podman, "load", "-i", oci]);
    }

    private static string Config(string dockerArchive)
    {
        var list = Tool.Run("tar", "-xOf", dockerArchive, "manifest.json").Stdout;
        using var m = JsonDocument.Parse(list);
        return "sha256:" + m.RootElement[0].GetProperty("Config").GetString()!.Replace(".json", "");
    }
}
