using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>--root as users give it: empty is a bad argument, relative works exactly as absolute.</summary>
public class StoreRootTests
{
    [Fact]
    public void AnEmptyRootIsABadArgumentInOneLine()
    {
        using var tmp = new TempDir();
        var r = StrataCli.RunIn("", tmp.Path, "images");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("strata: error: the store root must not be empty", r.Stderr.Trim());
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [Theory]
    [InlineData("overlay")]
    [InlineData("fuse")]
    public void ARelativeRootMountsAndCountsLikeAnAbsoluteOne(string driver)
    {
        Requires.Root();
        if (driver == "overlay") Requires.Overlay();
        else Requires.Fuse();
        using var tmp = new TempDir();
        var cwd = tmp.CreateDirectory("cwd");
        CliResult Strata(params string[] args) => StrataCli.RunIn("st", cwd, args);
        Strata("--driver", driver, "load", "-q", "-i", SampleImages.Get("busybox").DockerArchive).Ok();
        Strata("create", "--name", "c", "docker.io/strata-test/busybox:latest").Ok();

        var merged = Strata("mount", "c").Ok().Stdout.Trim();
        Assert.StartsWith(Path.Combine(cwd, "st") + "/", merged, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(merged, "bin", "busybox")), "the mount does not show the image");
        Assert.Equal(merged, Strata("mount", "c").Ok().Stdout.Trim());
        Strata("umount", "c").Ok();
        Assert.Single(TempDir.MountsBelow(merged));
        Strata("umount", "c").Ok();
        Assert.Empty(TempDir.MountsBelow(merged));
        Assert.DoesNotContain("mounted", Strata("ps").Ok().Stdout, StringComparison.Ordinal);
        // The same store by its absolute path sees no mount left behind either.
        StrataCli.Run(Path.Combine(cwd, "st"), "rm", "c").Ok();
    }
}
