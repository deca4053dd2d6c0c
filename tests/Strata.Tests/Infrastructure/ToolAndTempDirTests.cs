namespace Strata.Tests.Infrastructure;

public class ToolAndTempDirTests
{
    [Fact]
    public void FailureCarriesExitCodeAndBothStreams()
    {
        var e = Assert.Throws<ToolException>(() => Tool.Run("sh", "-c", "echo out; echo err >&2; exit 3"));
        Assert.Equal(3, e.Result!.ExitCode);
        Assert.Contains("out", e.Message, StringComparison.Ordinal);
        Assert.Contains("err", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TimeoutKillsTheTool()
    {
        var e = Assert.Throws<ToolException>(() => Tool.Run(new ToolCall("sleep", ["30"]) { Timeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Contains("timed out", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingToolIsNamed()
    {
        Assert.False(Tool.Exists("no-such-tool-strata"));
        var e = Assert.Throws<ToolException>(() => Tool.Run("no-such-tool-strata"));
        Assert.Contains("no-such-tool-strata", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DisposeUnmountsAndRemoves()
    {
        Requires.Root();
        string path;
        using (var dir = new TempDir("mnt"))
        {
            path = dir.Path;
            var mnt = dir.CreateDirectory("a b", "mnt"); // a space, escaped as \040 in mountinfo
            Tool.Run("mount", "-t", "tmpfs", "tmpfs", mnt);
            File.WriteAllText(Path.Combine(mnt, "f"), "x");
            Assert.Single(TempDir.MountsBelow(path));
        }
        Assert.Empty(TempDir.MountsBelow(path));
        Assert.False(Directory.Exists(path));
    }

    [Fact]
    public void KernelOverlayAndFuseAreAvailable()
    {
        Requires.Overlay();
        Requires.Fuse();
    }
}
