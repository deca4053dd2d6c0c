using Strata.Archive;
using Strata.Fuse;
using Strata.Tests.Infrastructure;
using Strata.Tests.Union;

namespace Strata.Tests.Fuse;

/// <summary>
/// Strata's FUSE union against the kernel's overlayfs as the oracle: the same random layers, the same random
/// container operations applied to both mounts, the merged trees compared after every few steps, and the FUSE
/// upper layer read back by overlayfs's rules (so the kernel driver can take over a container FUSE made).
/// </summary>
public class FuseUnionDifferentialTests
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 100)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void FuseAndKernelAgree(int seed)
    {
        Requires.Root();
        Requires.Overlay();
        Requires.Fuse();
        using var tmp = new TempDir();
        var lowersTopFirst = Enumerable.Reverse(UnionViewDifferentialTests.MakeLayers(new Random(seed), tmp)).ToList();
        string kUpper = tmp.CreateDirectory("k-upper"), kWork = tmp.CreateDirectory("k-work"), kMerged = tmp.CreateDirectory("k-merged");
        string fUpper = tmp.CreateDirectory("f-upper"), fWork = tmp.CreateDirectory("f-work"), fMerged = tmp.CreateDirectory("f-merged");
        Tool.Run("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={string.Join(':', lowersTopFirst)},upperdir={kUpper},workdir={kWork},index=off", kMerged);
        var ops = new List<string>();
        try
        {
            using var session = FuseSession.Mount(new UnionFileSystem(fUpper, fWork, lowersTopFirst), fMerged, "strata-test");
            // Writes stamp "now", a few microseconds apart on the two mounts: such times compare as "recent".
            long start = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5;
            List<string> Normal(List<string> lines) => lines.Select(l =>
            {
                int space = l.LastIndexOf(' ');
                return long.TryParse(l[(space + 1)..].Split('.')[0], out var t) && t >= start ? l[..space] + " recent" : l;
            }).ToList();
            void Compare()
            {
                // Some random stacks (3 seeds in 300) make the kernel list a name its own lookup cannot find; the FUSE
                // union shows neither, so such kernel lines are no reference. (A FUSE listing with one still fails.)
                var kernel = Normal(UnionViewDifferentialTests.Kernel(kMerged)).Where(l => !l.EndsWith(" listed but not found", StringComparison.Ordinal)).ToList();
                var fuse = Normal(UnionViewDifferentialTests.Kernel(fMerged));
                var fuseUpperRead = Normal(UnionViewDifferentialTests.Managed([fUpper, .. lowersTopFirst]));
                foreach (var (name, other) in new[] { ("FUSE mount", fuse), ("FUSE upper read by overlay rules", fuseUpperRead) })
                {
                    if (kernel.SequenceEqual(other)) continue;
                    Assert.Fail($"seed {seed}: kernel and {name} diverge after:\n  {string.Join("\n  ", ops)}\nkernel only:\n  {string.Join("\n  ", kernel.Except(other).Take(10))}\n{name} only:\n  {string.Join("\n  ", other.Except(kernel).Take(10))}");
                }
            }
            Compare();
            var rndK = new Random(seed * 7919);
            var rndF = new Random(seed * 7919);
            for (int step = 1; step <= 100; step++)
            {
                var k = UnionViewDifferentialTests.Op(rndK, kMerged);
                var f = UnionViewDifferentialTests.Op(rndF, fMerged);
                ops.Add(k == f ? k : $"{k}   <-- FUSE: {f}");
                Assert.True(k == f, $"seed {seed}: the same operation had different outcomes:\n  {string.Join("\n  ", ops)}");
                if (step % 5 == 0) Compare();
            }
        }
        finally
        {
            Tool.Run("umount", kMerged);
        }
    }
}
