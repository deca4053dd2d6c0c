using System.Text.Json;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>The image verbs behave as docker and podman users expect.</summary>
public class ImageCommandTests
{
    private static string MakeRootfs(TempDir tmp)
    {
        var rootfs = tmp.CreateDirectory("rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        File.WriteAllText(Path.Combine(rootfs, "etc", "hostname"), "strata\n");
        File.WriteAllBytes(Path.Combine(rootfs, "data.bin"), new byte[123_456]);
        File.CreateSymbolicLink(Path.Combine(rootfs, "link"), "/etc/hostname");
        return rootfs;
    }

    [Fact]
    public void ImportListInspectHistory()
    {
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "import", MakeRootfs(tmp), "example.com/team/app:v1", "-m", "first").Ok().Stdout.Trim();
        Assert.Matches("^sha256:[0-9a-f]{64}$", id);

        var table = StrataCli.Run(root, "images").Ok().Stdout;
        Assert.Matches(@"REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE", table);
        Assert.Matches(@"example.com/team/app\s+v1\s+" + id[7..19], table);
        Assert.Equal(id[7..19], StrataCli.Run(root, "images", "-q").Ok().Stdout.Trim());

        using var json = JsonDocument.Parse(StrataCli.Run(root, "images", "--format", "json").Ok().Stdout);
        var image = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal(id[7..], image.GetProperty("Id").GetString());
        Assert.Equal("example.com/team/app:v1", image.GetProperty("RepoTags")[0].GetString());

        using var inspect = JsonDocument.Parse(StrataCli.Run(root, "inspect", "example.com/team/app:v1").Ok().Stdout);
        var i = inspect.RootElement[0];
        Assert.Equal(id[7..], i.GetProperty("Id").GetString());
        Assert.Equal(1, i.GetProperty("RootFS").GetProperty("Layers").GetArrayLength());
        Assert.True(i.GetProperty("Size").GetInt64() > 123_456);
        Assert.Equal("first", i.GetProperty("History")[0].GetProperty("comment").GetString());

        var history = StrataCli.Run(root, "history", "example.com/team/app:v1").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, history.Length);
        Assert.StartsWith(id[7..19], history[1]);
        Assert.Contains("strata import rootfs", history[1]);
    }

    [Fact]
    public void HistoryShowsMetadataOnlyStepsAsZero()
    {
        var sample = SampleImages.Get("kitchensink"); // history: layer, layer, empty_layer (umoci config), layer
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "load", "-q", "-i", sample.LayoutDir).Ok().Stdout.Trim();
        var rows = StrataCli.Run(root, "history", id).Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, rows.Length);
        Assert.StartsWith(id[7..19], rows[1]);
        Assert.Matches(@"\s0B\s", rows[2]);
        Assert.All(rows.Skip(2), r => Assert.StartsWith("<missing>", r));
        using var json = JsonDocument.Parse(StrataCli.Run(root, "history", "--format", "json", id).Ok().Stdout);
        Assert.Equal([false, true, false, false], json.RootElement.EnumerateArray().Select(e => e.GetProperty("emptyLayer").GetBoolean()).ToArray());
    }

    [Fact]
    public void TagAndRmiFollowDocker()
    {
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "import", MakeRootfs(tmp), "app").Ok().Stdout.Trim();
        StrataCli.Run(root, "tag", "app", "app:v2", "localhost:5000/app:v3").Ok();
        var names = StrataCli.Run(root, "images").Ok().Stdout;
        Assert.Contains("docker.io/library/app", names);
        Assert.Contains("localhost:5000/app", names);

        // By name with other names left: untag only.
        Assert.Equal("Untagged: docker.io/library/app:v2", StrataCli.Run(root, "rmi", "app:v2").Ok().Stdout.Trim());
        // By ID with several names: refused without -f.
        var refused = StrataCli.Run(root, "rmi", id);
        Assert.Equal(4, refused.ExitCode);
        Assert.Contains("several names", refused.Stderr);
        var removed = StrataCli.Run(root, "rmi", "-f", id).Ok().Stdout;
        Assert.Contains("Deleted: " + id, removed);
        Assert.Equal("", StrataCli.Run(root, "images", "-q").Ok().Stdout.Trim());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "blobs", "sha256")));
    }

    [Fact]
    public void UnknownImageIsOneLineAndExit3()
    {
        using var tmp = new TempDir();
        var r = StrataCli.Run(tmp.CreateDirectory("root"), "inspect", "nope");
        Assert.Equal(3, r.ExitCode);
        Assert.Equal("strata: error: image not known: nope", r.Stderr.Trim());
    }

    [Fact]
    public void ImportedTarballKeepsItsBytesAsTheLayer()
    {
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var tar = Path.Combine(tmp.Path, "rootfs.tar");
        Tool.Run("tar", "-cf", tar, "-C", MakeRootfs(tmp), ".");
        StrataCli.Run(root, "import", tar, "t:1").Ok();
        using var inspect = JsonDocument.Parse(StrataCli.Run(root, "inspect", "t:1").Ok().Stdout);
        var diffId = inspect.RootElement[0].GetProperty("RootFS").GetProperty("Layers")[0].GetString();
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(tar)));
        Assert.Equal("sha256:" + sha, diffId);
    }
}

/// <summary>docker's pipes: save to standard output, load from standard input; reproducible imports.</summary>
public class ImageStreamTests
{
    [Fact]
    public void SaveToStdoutLoadFromStdin()
    {
        var sample = SampleImages.Get("busybox");
        using var tmp = new TempDir();
        var a = tmp.CreateDirectory("a");
        var b = tmp.CreateDirectory("b");
        var id = StrataCli.Run(a, "load", "-q", "-i", sample.DockerArchive).Ok().Stdout.Trim();
        var piped = Tool.Run("sh", "-c", $"{StrataCli.ShellPrefix(a)} save {id} | {StrataCli.ShellPrefix(b)} load -q").Stdout.Trim();
        Assert.Equal(id, piped);
        var oci = Tool.Run("sh", "-c", $"{StrataCli.ShellPrefix(a)} save --format oci-archive {id} | {StrataCli.ShellPrefix(b)} load -q").Stdout.Trim();
        Assert.Equal(id, oci);
    }

    [Fact]
    public void SourceDateEpochMakesImportReproducible()
    {
        using var tmp = new TempDir();
        var rootfs = tmp.CreateDirectory("rootfs");
        File.WriteAllText(Path.Combine(rootfs, "file"), "same");
        Directory.CreateDirectory(Path.Combine(rootfs, "dir"));
        string Import(string root) => Tool.Run("sh", "-c", $"SOURCE_DATE_EPOCH=1700000000 {StrataCli.ShellPrefix(root)} import '{rootfs}' r:1").Stdout.Trim();
        var first = Import(tmp.CreateDirectory("r1"));
        Thread.Sleep(1100);
        File.SetLastWriteTimeUtc(Path.Combine(rootfs, "file"), DateTime.UtcNow); // newer than the epoch: clamped
        var second = Import(tmp.CreateDirectory("r2"));
        Assert.Equal(first, second);
    }
}

public class UsageErrorTests
{
    [Theory]
    [InlineData("nosuch")]
    [InlineData("save", "--format", "bogus", "x")]
    [InlineData("images", "--no-such-flag")]
    public void UsageErrorsAreOneLineAndExit2(params string[] args)
    {
        using var tmp = new TempDir();
        var r = StrataCli.Run(tmp.CreateDirectory("root"), args);
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.Trim();
        Assert.StartsWith("strata: error: ", line);
        Assert.DoesNotContain('\n', line);
        Assert.Equal("", r.Stdout);
    }
}
