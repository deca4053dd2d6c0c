using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>Verbs that race on one image have one winner, and the store stays usable whichever it is.</summary>
public class VerbRaceTests
{
    [Fact]
    public async Task CreateRacingRmiEitherFailsOrLeavesAUsableContainer()
    {
        using var tmp = new TempDir("race");
        var root = tmp.CreateDirectory("root");
        var ct = TestContext.Current.CancellationToken;
        int created = 0, removed = 0;
        for (int i = 0; i < 12; i++)
        {
            var src = tmp.CreateDirectory($"src{i}");
            await File.WriteAllTextAsync(Path.Combine(src, "n"), $"{i}\n", ct);
            var image = $"localhost/race:{i}";
            StrataCli.Run(root, "import", src, image).Ok();
            var create = Task.Run(() => StrataCli.Run(root, "create", "--name", $"c{i}", image), ct);
            var rmi = Task.Run(() => StrataCli.Run(root, "rmi", image), ct);
            var (c, r) = (await create, await rmi);
            Assert.False(c.ExitCode == 0 && r.ExitCode == 0, $"trial {i}: both create and rmi succeeded");
            Assert.True(c.ExitCode == 0 || r.ExitCode == 0, $"trial {i}: neither succeeded: {c.Stderr} {r.Stderr}");
            if (c.ExitCode == 0)
            {
                created++;
                Assert.Contains("in use by containers", r.Stderr);
                var tar = tmp.Combine($"c{i}.tar");
                StrataCli.Run(root, "export", "-o", tar, $"c{i}").Ok();
                Assert.Equal($"{i}\n", Tool.Run("tar", "-xOf", tar, "n").Stdout);
            }
            else
            {
                removed++;
                Assert.Contains("image", c.Stderr);
                Assert.DoesNotContain($"\"c{i}\"", StrataCli.Run(root, "ps", "--format", "json").Ok().Stdout);
            }
        }
        Assert.Equal(created, StrataCli.Run(root, "ps", "-q").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        TestContext.Current.SendDiagnosticMessage($"create won {created}, rmi won {removed}");
    }

    [Fact]
    public async Task TagRacingRmiNeverBringsARemovedImageBack()
    {
        using var tmp = new TempDir("race-tag");
        var root = tmp.CreateDirectory("root");
        var ct = TestContext.Current.CancellationToken;
        for (int i = 0; i < 12; i++)
        {
            var src = tmp.CreateDirectory($"src{i}");
            await File.WriteAllTextAsync(Path.Combine(src, "n"), $"{i}\n", ct);
            StrataCli.Run(root, "import", src, $"localhost/race:{i}").Ok();
            var tag = Task.Run(() => StrataCli.Run(root, "tag", $"localhost/race:{i}", $"localhost/other:{i}"), ct);
            var rmi = Task.Run(() => StrataCli.Run(root, "rmi", $"localhost/race:{i}"), ct);
            var (t, r) = (await tag, await rmi);
            r.Ok();
            if (t.ExitCode == 0)
            {
                // The tag came first: the rmi only untagged, and the image is whole under its other name.
                StrataCli.Run(root, "save", "-o", tmp.Combine($"other{i}.tar"), $"localhost/other:{i}").Ok();
            }
            else
            {
                Assert.Contains("not known", t.Stderr);
                Assert.DoesNotContain($"localhost/other:{i}", StrataCli.Run(root, "images").Ok().Stdout);
            }
        }
    }
}
