using System.Text.Json;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>The vfs driver: the same container verbs with full copies and no mounts; the store keeps its driver.</summary>
public class VfsDriverTests
{
    [Fact]
    public void ContainersWithoutMountsAndTheDriverIsRecorded()
    {
        var sample = SampleImages.Get("busybox");
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        StrataCli.Run(root, "load", "-q", "-i", sample.LayoutDir).Ok();
        var id = StrataCli.Run(root, "images", "-q", "--no-trunc").Ok().Stdout.Trim();
        StrataCli.Run(root, "tag", id, "localhost/bb:1").Ok();
        StrataCli.Run(root, "--driver", "vfs", "create", "--name", "c1", "localhost/bb:1").Ok();

        var refused = StrataCli.Run(root, "--driver", "overlay", "create", "localhost/bb:1");
        Assert.Equal(9, refused.ExitCode);
        Assert.Contains("uses the vfs driver", refused.Stderr);

        var tree = StrataCli.Run(root, "mount", "c1").Ok().Stdout.Trim();
        Assert.Empty(TempDir.MountsBelow(root));
        File.AppendAllText(Path.Combine(tree, "etc/group"), "extra:x:1234:\n");
        File.Delete(Path.Combine(tree, "etc/passwd"));
        Directory.Delete(Path.Combine(tree, "bin"), recursive: true);
        Directory.CreateDirectory(Path.Combine(tree, "bin"));
        File.WriteAllText(Path.Combine(tree, "bin/only"), "new");
        StrataCli.Run(root, "umount", "c1").Ok();

        var diff = StrataCli.Run(root, "diff", "c1").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("D /etc/passwd", diff);
        Assert.Contains("C /etc/group", diff);
        Assert.Contains("A /bin/only", diff);
        Assert.Contains("D /bin/sh", diff);

        var committed = StrataCli.Run(root, "commit", "c1", "localhost/bb:2").Ok().Stdout.Trim();
        var unpacked = tmp.Combine("unpacked");
        StrataCli.Run(root, "unpack", committed, unpacked).Ok();
        var ignoreRoot = new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } };
        var differences = TreeComparer.Compare(tree, unpacked, ignoreRoot);
        Assert.True(differences.Count == 0, string.Join('\n', differences));

        var exported = tmp.Combine("c1.tar");
        StrataCli.Run(root, "export", "-o", exported, "c1").Ok();
        var extracted = tmp.CreateDirectory("extracted");
        Tool.Run("tar", "-xpf", exported, "--xattrs", "--xattrs-include=*", "-C", extracted);
        differences = TreeComparer.Compare(tree, extracted, ignoreRoot);
        Assert.True(differences.Count == 0, string.Join('\n', differences));

        // A container of the committed image starts from the committed tree.
        StrataCli.Run(root, "create", "--name", "c2", "localhost/bb:2").Ok();
        var tree2 = StrataCli.Run(root, "mount", "c2").Ok().Stdout.Trim();
        Assert.Equal("new", File.ReadAllText(Path.Combine(tree2, "bin/only")));
        Assert.False(File.Exists(Path.Combine(tree2, "etc/passwd")));

        using var ps = JsonDocument.Parse(StrataCli.Run(root, "ps", "--format", "json").Ok().Stdout);
        Assert.Equal(2, ps.RootElement.GetArrayLength());
        StrataCli.Run(root, "rm", "c1", "c2").Ok();
        Assert.False(Directory.Exists(tree));
        StrataCli.Run(root, "rmi", "localhost/bb:2").Ok();
    }
}
