using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>What a killed command can leave behind is found and removed by the next prune, and nothing live is.</summary>
public class CrashLeftoversTests
{
    [Fact]
    public void PruneRemovesAContainerDirectoryNoRowNames()
    {
        using var tmp = new TempDir("leftovers");
        var root = tmp.CreateDirectory("root");
        var src = tmp.CreateDirectory("src");
        File.WriteAllText(Path.Combine(src, "f"), "x");
        StrataCli.Run(root, "--driver", "vfs", "import", src, "localhost/left:1").Ok();
        var live = StrataCli.Run(root, "create", "localhost/left:1").Ok().Stdout.Trim();
        StrataCli.Run(root, "mount", live).Ok();
        // An rm killed after its row went: the directory stays, with nothing naming it.
        var orphan = tmp.CreateDirectory("root", "containers", new string('a', 64), "merged");
        Tool.Run("touch", "-d", "2 hours ago", Path.GetDirectoryName(orphan)!);
        var young = tmp.CreateDirectory("root", "containers", new string('b', 64));

        StrataCli.Run(root, "prune").Ok();
        Assert.False(Directory.Exists(Path.GetDirectoryName(orphan)));
        Assert.True(Directory.Exists(young)); // perhaps an rm in flight: an hour's grace, as for every leftover
        StrataCli.Run(root, "export", "-o", tmp.Combine("live.tar"), live).Ok();
        Assert.Contains("f", Tool.Run("tar", "-tf", tmp.Combine("live.tar")).Stdout.Split('\n'));
    }
}
