using Strata.Archive;
using Strata.Tests.Infrastructure;
using Strata.Tests.Union;

namespace Strata.Tests.Cli;

/// <summary>
/// The vfs driver and Strata's FUSE union against the kernel's overlayfs: the same random operations on a container
/// of each, from one image, give the same tree; each commit unpacks to its container's tree; and the container the
/// FUSE driver made, mounted by the kernel driver, shows the same tree.
/// </summary>
public class DriverDifferentialTests
{
    private static readonly string[] Names = ["etc", "bin", "tmp", "a", "b", "passwd", "sh", "group"];

    public static TheoryData<int> Seeds => [.. Enumerable.Range(100, 6)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void OverlayFuseAndVfsContainersAgree(int seed)
    {
        Requires.Overlay();
        Requires.Fuse();
        var sample = SampleImages.Get("busybox");
        using var tmp = new TempDir();
        var trees = new Dictionary<string, string>();
        var ops = new List<string>();
        foreach (var driver in new[] { "overlay", "fuse", "vfs" })
        {
            var root = tmp.CreateDirectory(driver);
            var id = StrataCli.Run(root, "--driver", driver, "load", "-q", "-i", sample.LayoutDir).Ok().Stdout.Trim();
            StrataCli.Run(root, "create", "--name", "c", id).Ok();
            var tree = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
            var rnd = new Random(seed);
            ops.Clear();
            for (int i = 0; i < 40; i++) ops.Add(UnionViewDifferentialTests.Op(rnd, tree, Names));
            var snapshot = tmp.Combine(driver + "-tree");
            Tool.Run("cp", "-a", tree, snapshot);
            StrataCli.Run(root, "umount", "c").Ok();
            trees[driver] = snapshot;
            if (driver == "fuse")
            {
                var byKernel = StrataCli.Run(root, "--driver", "overlay", "mount", "c").Ok().Stdout.Trim();
                var crossed = TreeComparer.Compare(snapshot, byKernel);
                StrataCli.Run(root, "--driver", "overlay", "umount", "c").Ok();
                Assert.True(crossed.Count == 0, $"seed {seed}: the FUSE container mounted by the kernel differs:\n{string.Join('\n', crossed.Take(20))}\nafter:\n  {string.Join("\n  ", ops)}");
            }

            // The commit of each container unpacks to exactly that container's tree.
            var committed = StrataCli.Run(root, "commit", "c", "localhost/after:1").Ok().Stdout.Trim();
            var unpacked = tmp.Combine(driver + "-unpacked");
            StrataCli.Run(root, "unpack", committed, unpacked).Ok();
            var fromCommit = TreeComparer.Compare(snapshot, unpacked, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
            Assert.True(fromCommit.Count == 0, $"{driver} commit, seed {seed}:\n{string.Join('\n', fromCommit.Take(20))}\nafter:\n  {string.Join("\n  ", ops)}");
        }
        // Times of files written during the run differ between the runs; everything else must not.
        foreach (var other in new[] { "fuse", "vfs" })
        {
            var diff = TreeComparer.Compare(trees["overlay"], trees[other], new TreeComparer.Options { CompareMtimes = false });
            Assert.True(diff.Count == 0, $"seed {seed}: overlay and {other} differ after:\n  {string.Join("\n  ", ops)}\n{string.Join('\n', diff.Take(20))}");
        }
    }
}
