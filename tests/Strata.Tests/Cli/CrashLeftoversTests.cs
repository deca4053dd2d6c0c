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
        // An rm killed after its row went: the directory stays, with nothing naming it, and goes at the next prune
        // however young (a mount makes one only for a container with a row; an rm in flight deletes it anyway).
        var orphan = tmp.CreateDirectory("root", "containers", new string('a', 64), "merged");

        StrataCli.Run(root, "prune").Ok();
        Assert.False(Directory.Exists(Path.GetDirectoryName(orphan)));
        StrataCli.Run(root, "export", "-o", tmp.Combine("live.tar"), live).Ok();
        Assert.Contains("f", Tool.Run("tar", "-tf", tmp.Combine("live.tar")).Stdout.Split('\n'));
    }
}
