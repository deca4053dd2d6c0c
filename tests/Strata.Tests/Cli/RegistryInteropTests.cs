using System.Text.Json;
using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>What skopeo puts in a registry strata pulls as `strata load` reads it; what strata pushes, skopeo, umoci and podman read.</summary>
public class RegistryInteropTests
{
    [Theory]
    [InlineData("busybox", false)]
    [InlineData("kitchensink", false)]
    [InlineData("kitchensink", true)]
    public async Task PullGivesTheImageIdAndRootfsOfLoad(string image, bool zstd)
    {
        Requires.Root();
        Requires.Tool("umoci");
        await using var registry = await RegistryServer.StartAsync();
        RegistryFixture.Seed(registry, image, $"peers/{image}:1", zstd);
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        var sample = SampleImages.Get(image);
        var loaded = RegistryFixture.Id(StrataCli.Run(tmp.CreateDirectory("a"), "load", "-q", "-i", zstd ? sample.ZstdLayoutDir : sample.LayoutDir));
        var root = tmp.CreateDirectory("b");
        var pulled = RegistryFixture.Id(StrataCli.RunEnv(root, env, "pull", "-q", $"{registry.Host}/peers/{image}:1"));
        Assert.Equal(loaded, pulled);
        var target = tmp.CreateDirectory("rootfs");
        StrataCli.Run(root, "unpack", $"{registry.Host}/peers/{image}:1", target).Ok();
        var differences = TreeComparer.Compare(sample.RootfsFromUmoci, target);
        Assert.True(differences.Count == 0, string.Join('\n', differences.Take(40)));
        // The layers were unpacked during the pull: a container needs no further unpacking.
        var create = StrataCli.Run(root, "create", $"{registry.Host}/peers/{image}:1").Ok();
        Assert.DoesNotContain("Unpacked", create.Stderr);
    }

    [Fact]
    public async Task PushIsReadBySkopeoUmociAndPodman()
    {
        Requires.Root();
        Requires.Tool("umoci");
        Requires.Tool("podman");
        await using var registry = await RegistryServer.StartAsync();
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        var root = tmp.CreateDirectory("root");
        var sample = SampleImages.Get("kitchensink");
        var id = RegistryFixture.Id(StrataCli.Run(root, "load", "-q", "-i", sample.LayoutDir));
        var dest = $"{registry.Host}/pushed/kitchensink:v1";
        StrataCli.RunEnv(root, env, "push", id, dest, "--digestfile", tmp.Combine("digest")).Ok();
        var digest = File.ReadAllText(tmp.Combine("digest"));

        using (var inspect = JsonDocument.Parse(Tool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{dest}").Stdout))
            Assert.Equal(digest, inspect.RootElement.GetProperty("Digest").GetString());
        // Unchanged format: the stored manifest's own bytes went out.
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(ManifestPath(sample.LayoutDir)))));

        Tool.Run("skopeo", "copy", "-q", "--src-tls-verify=false", $"docker://{dest}", $"oci:{tmp.Combine("layout")}:x");
        Tool.Run("umoci", "unpack", "--image", $"{tmp.Combine("layout")}:x", tmp.Combine("bundle"));
        var differences = TreeComparer.Compare(sample.RootfsFromUmoci, tmp.Combine("bundle", "rootfs"));
        Assert.True(differences.Count == 0, string.Join('\n', differences.Take(40)));

        string[] podman = ["--root", tmp.Combine("p-root"), "--runroot", tmp.Combine("p-run"), "--storage-driver", "vfs"];
        Tool.Run("podman", [.. podman, "pull", "-q", "--tls-verify=false", dest]);
        Assert.Equal(id, Tool.Run("podman", [.. podman, "image", "inspect", "--format", "{{.Id}}", dest]).Stdout.Trim());
    }

    private static string ManifestPath(string layout)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "index.json")));
        var d = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        return Path.Combine(layout, "blobs", "sha256", d[7..]);
    }

    [Fact]
    public async Task CommittedLayersArePushedGzippedAsDockerV2S2AndComeBackAsTheSameImage()
    {
        Requires.Root();
        Requires.Overlay();
        Requires.Tool("podman");
        await using var registry = await RegistryServer.StartAsync();
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        var root = tmp.CreateDirectory("root");
        var busybox = RegistryFixture.Id(StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("busybox").LayoutDir));
        var container = StrataCli.Run(root, "create", "--name", "c1", busybox).Ok().Stdout.Trim();
        var merged = StrataCli.Run(root, "mount", "c1").Ok().Stdout.Trim();
        File.WriteAllText(Path.Combine(merged, "hello.txt"), "from strata\n");
        StrataCli.Run(root, "umount", "c1").Ok();
        var committed = RegistryFixture.Id(StrataCli.Run(root, "commit", "-q", "c1", "localhost/committed:1"));
        Assert.NotEmpty(container);

        var dest = $"{registry.Host}/committed:1";
        StrataCli.RunEnv(root, env, "push", "--format", "v2s2", "localhost/committed:1", dest).Ok();
        using (var raw = JsonDocument.Parse(Tool.Run("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{dest}").Stdout))
        {
            Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", raw.RootElement.GetProperty("mediaType").GetString());
            foreach (var layer in raw.RootElement.GetProperty("layers").EnumerateArray())
                Assert.Equal("application/vnd.docker.image.rootfs.diff.tar.gzip", layer.GetProperty("mediaType").GetString());
        }
        // A second push reuses the compressed blob: same manifest digest, every blob already there.
        StrataCli.RunEnv(root, env, "push", "--format", "v2s2", "--digestfile", tmp.Combine("d1"), "localhost/committed:1", dest).Ok();
        var again = StrataCli.RunEnv(root, env, "push", "--format", "v2s2", "--digestfile", tmp.Combine("d2"), "localhost/committed:1", dest).Ok();
        Assert.Equal(File.ReadAllText(tmp.Combine("d1")), File.ReadAllText(tmp.Combine("d2")));
        Assert.DoesNotContain("Pushed", again.Stderr);

        var other = tmp.CreateDirectory("other");
        Assert.Equal(committed, RegistryFixture.Id(StrataCli.RunEnv(other, env, "pull", "-q", dest)));
        var target = tmp.CreateDirectory("rootfs");
        StrataCli.Run(other, "unpack", dest, target).Ok();
        Assert.Equal("from strata\n", File.ReadAllText(Path.Combine(target, "hello.txt")));

        string[] podman = ["--root", tmp.Combine("p-root"), "--runroot", tmp.Combine("p-run"), "--storage-driver", "vfs"];
        Tool.Run("podman", [.. podman, "pull", "-q", "--tls-verify=false", dest]);
        Assert.Equal(committed, Tool.Run("podman", [.. podman, "image", "inspect", "--format", "{{.Id}}", dest]).Stdout.Trim());
    }

    [Fact]
    public async Task InspectRemoteAndManifestShowWhatSkopeoShows()
    {
        await using var registry = await RegistryServer.StartAsync();
        RegistryFixture.Seed(registry, "kitchensink", "peers/ks:1");
        RegistryFixture.Seed(registry, "kitchensink", "peers/ks:2");
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        var root = tmp.CreateDirectory("root");
        var reference = $"{registry.Host}/peers/ks:1";
        using var ours = JsonDocument.Parse(StrataCli.RunEnv(root, env, "inspect", "--remote", reference).Ok().Stdout);
        using var theirs = JsonDocument.Parse(Tool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{reference}").Stdout);
        foreach (var field in new[] { "Name", "Digest", "RepoTags", "Created", "DockerVersion", "Labels", "Architecture", "Os", "Layers", "Env" })
            Assert.True(JsonElement.DeepEquals(theirs.RootElement.GetProperty(field), ours.RootElement.GetProperty(field)), $"{field}: {ours.RootElement.GetProperty(field)}");
        Assert.Equal(Tool.Run("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{reference}").Stdout, StrataCli.RunEnv(root, env, "manifest", reference).Ok().Stdout);
        Assert.Equal(Tool.Run("skopeo", "inspect", "--config", "--raw", "--tls-verify=false", $"docker://{reference}").Stdout,
            StrataCli.RunEnv(root, env, "manifest", "--config", reference).Ok().Stdout);
        // Nothing was pulled.
        Assert.Equal("[]", StrataCli.Run(root, "images", "--format", "json").Ok().Stdout.Trim());
        var missing = StrataCli.RunEnv(root, env, "inspect", "--remote", $"{registry.Host}/peers/none:1");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("MANIFEST_UNKNOWN", missing.Stderr);
    }

    [Fact]
    public async Task ASecondImageMovesOnlyItsNewLayersAndMountsAcrossRepositories()
    {
        Requires.Root();
        Requires.Overlay();
        await using var registry = await RegistryServer.StartAsync();
        await using var proxy = new FaultProxy(registry.Host);
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        var builder = tmp.CreateDirectory("builder");
        var busybox = RegistryFixture.Id(StrataCli.Run(builder, "load", "-q", "-i", SampleImages.Get("busybox").LayoutDir));
        StrataCli.Run(builder, "create", "--name", "c", busybox).Ok();
        var merged = StrataCli.Run(builder, "mount", "c").Ok().Stdout.Trim();
        File.WriteAllBytes(Path.Combine(merged, "blob.bin"), new byte[300_000]);
        StrataCli.Run(builder, "umount", "c").Ok();
        StrataCli.Run(builder, "commit", "-q", "c", "localhost/derived:1").Ok();
        StrataCli.RunEnv(builder, env, "push", busybox, $"{proxy.Host}/base:1").Ok();
        var pushed = StrataCli.RunEnv(builder, env, "push", "localhost/derived:1", $"{proxy.Host}/derived:1").Ok();
        // The base layer came from another repository of the same registry: mounted, not uploaded.
        Assert.Contains("Mounted from base", pushed.Stderr);
        Assert.Contains(proxy.Requests, r => r.Contains("mount=sha256:", StringComparison.Ordinal) && r.EndsWith("-> 201", StringComparison.Ordinal));

        var root = tmp.CreateDirectory("puller");
        StrataCli.RunEnv(root, env, "pull", "-q", $"{proxy.Host}/base:1").Ok();
        long afterBase = proxy.BlobBytesServed;
        var second = StrataCli.RunEnv(root, env, "pull", $"{proxy.Host}/derived:1").Ok();
        Assert.Contains("Already exists", second.Stderr);
        using var manifest = JsonDocument.Parse(StrataCli.RunEnv(root, env, "manifest", $"{proxy.Host}/derived:1").Ok().Stdout);
        var layers = manifest.RootElement.GetProperty("layers");
        long newLayer = layers[layers.GetArrayLength() - 1].GetProperty("size").GetInt64();
        long config = manifest.RootElement.GetProperty("config").GetProperty("size").GetInt64();
        Assert.Equal(newLayer + config, proxy.BlobBytesServed - afterBase);
        // Pulling again moves no blob at all.
        long before = proxy.BlobBytesServed;
        StrataCli.RunEnv(root, env, "pull", "-q", $"{proxy.Host}/derived:1").Ok();
        Assert.Equal(before, proxy.BlobBytesServed);
    }
}
