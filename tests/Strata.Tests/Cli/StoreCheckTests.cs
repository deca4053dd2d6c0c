using System.Text.Json;
using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>system check finds bit rot and metadata that disagrees with the disk, one line each; --repair mends what it can.</summary>
public class StoreCheckTests
{
    [Fact]
    public async Task FindsDamageAndRepairsWhatCannotBeRebuilt()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var tmp = new TempDir("check");
        var root = tmp.CreateDirectory("root");
        var layout = SampleImages.Get("busybox").LayoutDir;
        var id = StrataCli.Run(root, "--driver", "vfs", "load", "-q", "-i", layout).Ok().Stdout.Trim();
        StrataCli.Run(root, "tag", id, "localhost/checked:1").Ok();
        StrataCli.Run(root, "create", "--name", "user", id).Ok();
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());

        // Bit rot in the largest blob (the layer), a layer directory gone, a directory nothing names.
        var blob = new DirectoryInfo(Path.Combine(root, "blobs", "sha256")).GetFiles().MaxBy(f => f.Length)!;
        var bytes = File.ReadAllBytes(blob.FullName);
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(blob.FullName, bytes);
        // Every path that hands content on refuses the damaged blob instead of passing it on under its old digest.
        foreach (var format in new[] { "docker-archive", "oci-archive", "oci-dir" })
        {
            var saved = StrataCli.Run(root, "save", "--format", format, "-o", tmp.Combine(format), id);
            Assert.True(saved.ExitCode == 5, $"{format}: exit {saved.ExitCode}: {saved.Stderr}");
            Assert.Contains(blob.Name[..12], saved.Stderr);
            Assert.False(Path.Exists(tmp.Combine(format)), $"{format}: a damaged save was left behind");
        }
        // A push refuses it too, before a byte leaves (the layer is pushed as stored: uncompressed layers are gzipped).
        var pushed = StrataCli.RunEnv(root, RegistryFixture.Env(tmp), "push", "localhost/checked:1", $"{registry.Host}/check/rot:1");
        Assert.True(pushed.ExitCode == 5, $"push: exit {pushed.ExitCode}: {pushed.Stderr}");
        Assert.Contains("digest mismatch", pushed.Stderr);
        var layer = Assert.Single(StoreLayout.LayerDirs(root));
        Directory.Move(layer, layer + "-gone");
        var stray = tmp.CreateDirectory("root", "vfs", "0123456789abcdef0123456789abcdef");

        var quick = StrataCli.Run(root, "system", "check", "--quick"); // no hashing: the rot goes unseen, the rest not
        Assert.Equal(1, quick.ExitCode);
        Assert.DoesNotContain("does not match its digest", quick.Stdout);
        Assert.Contains("no snapshot names it", quick.Stdout);
        var check = StrataCli.Run(root, "system", "check");
        Assert.Equal(1, check.ExitCode);
        var lines = check.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"blob sha256:{blob.Name}: its content does not match its digest", lines);
        Assert.Contains(lines, l => l.StartsWith("image localhost/checked:1: blob ", StringComparison.Ordinal) && l.EndsWith("is damaged: the image is unusable", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("snapshot sha256:", StringComparison.Ordinal) && l.Contains("is missing", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("directory ", StringComparison.Ordinal) && l.EndsWith("no snapshot names it", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"directory {Path.GetRelativePath(root, layer)}-gone", StringComparison.Ordinal));

        // Repair: the damaged blob goes; the image stays while a container uses it, and says so.
        var repair = StrataCli.Run(root, "system", "check", "--repair", "--format", "json");
        var report = JsonDocument.Parse(repair.Stdout).RootElement;
        Assert.Equal(1, repair.ExitCode);
        Assert.Contains(report.GetProperty("Problems").EnumerateArray(), p => p.GetProperty("Subject").GetString() == $"blob sha256:{blob.Name}" && p.GetProperty("Repaired").GetBoolean());
        Assert.Contains(report.GetProperty("Problems").EnumerateArray(), p => p.GetProperty("Problem").GetString()!.Contains("in use by containers user", StringComparison.Ordinal));
        Assert.False(File.Exists(blob.FullName));
        Assert.False(Directory.Exists(stray));

        StrataCli.Run(root, "rm", "user").Ok();
        var second = StrataCli.Run(root, "system", "check", "--repair", "--format", "json").Ok();
        Assert.Equal(id, Assert.Single(JsonDocument.Parse(second.Stdout).RootElement.GetProperty("RemovedImages").EnumerateArray()).GetString());
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());

        // The image loads again whole, and its containers work.
        StrataCli.Run(root, "load", "-q", "-i", layout).Ok();
        StrataCli.Run(root, "create", "--name", "again", id).Ok();
        StrataCli.Run(root, "export", "-o", tmp.Combine("again.tar"), "again").Ok();
        Assert.Contains("bin/busybox", Tool.Run("tar", "-tf", tmp.Combine("again.tar")).Stdout.Split('\n'));
    }

    [Fact]
    public async Task APushThatMustCompressARottenLayerRefusesIt()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var tmp = new TempDir("check-push");
        var root = tmp.CreateDirectory("root");
        var src = tmp.CreateDirectory("src");
        File.WriteAllText(Path.Combine(src, "f"), "x");
        StrataCli.Run(root, "--driver", "vfs", "import", src, "localhost/base:1").Ok();
        StrataCli.Run(root, "create", "--name", "c", "localhost/base:1").Ok();
        File.WriteAllText(Path.Combine(StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim(), "added"), new string('a', 4096));
        StrataCli.Run(root, "commit", "c", "localhost/committed:1").Ok(); // its new layer is kept uncompressed
        var layers = JsonDocument.Parse(StrataCli.Run(root, "inspect", "localhost/committed:1").Ok().Stdout).RootElement[0].GetProperty("Layers");
        var top = layers[layers.GetArrayLength() - 1];
        Assert.Equal("application/vnd.oci.image.layer.v1.tar", top.GetProperty("MediaType").GetString());
        var blob = Path.Combine(root, "blobs", "sha256", top.GetProperty("Digest").GetString()!["sha256:".Length..]);
        var bytes = File.ReadAllBytes(blob);
        bytes[^2048] ^= 0x01;
        File.WriteAllBytes(blob, bytes);

        var pushed = StrataCli.RunEnv(root, RegistryFixture.Env(tmp), "push", "localhost/committed:1", $"{registry.Host}/check/rot:2");
        Assert.True(pushed.ExitCode == 5, $"push: exit {pushed.ExitCode}: {pushed.Stderr}");
        Assert.Contains("digest mismatch", pushed.Stderr);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "ingest"))); // no half-made gzip blob stays
    }

    [Fact]
    public void LoadingTheImageAgainMendsARottenBlob()
    {
        using var tmp = new TempDir("check-load");
        var root = tmp.CreateDirectory("root");
        var sample = SampleImages.Get("busybox");
        StrataCli.Run(root, "--driver", "vfs", "load", "-q", "-i", sample.LayoutDir).Ok();
        foreach (var again in new[] { sample.LayoutDir, sample.OciArchive, sample.LayoutDir })
        {
            var blob = new DirectoryInfo(Path.Combine(root, "blobs", "sha256")).GetFiles().MaxBy(f => f.Length)!;
            var bytes = File.ReadAllBytes(blob.FullName);
            bytes[bytes.Length / 3] ^= 0x04;
            File.WriteAllBytes(blob.FullName, bytes);
            Assert.Equal(1, StrataCli.Run(root, "system", "check").ExitCode);
            StrataCli.Run(root, "load", "-q", "-i", again).Ok();
            Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());
        }
    }
}
