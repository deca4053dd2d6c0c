using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>
/// The published strata is one file to copy onto a machine: nothing it needs (SQLite above all) may sit beside it.
/// </summary>
public class SingleFileTests
{
    [Fact]
    public void RunsAloneInAnEmptyDirectory()
    {
        var published = Requires.PublishedStrata();
        using var tmp = new TempDir("single-file");
        var dir = tmp.CreateDirectory("bin");
        var strata = Path.Combine(dir, "strata");
        File.Copy(published, strata);
        Assert.Equal([strata], Directory.GetFileSystemEntries(dir));

        var version = Run(dir, strata, "--version");
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Stdout);

        // The store's metadata lives in SQLite: an empty store, then a write and a read through it.
        var root = tmp.CreateDirectory("root");
        Assert.Matches(@"REPOSITORY\s+TAG\s+IMAGE ID", Run(dir, strata, "images", "--root", root).Stdout);
        var rootfs = tmp.CreateDirectory("rootfs");
        File.WriteAllText(Path.Combine(rootfs, "hello"), "hello\n");
        Run(dir, strata, "import", "--root", root, rootfs, "example.com/single:file");
        Assert.Contains("example.com/single", Run(dir, strata, "images", "--root", root).Stdout, StringComparison.Ordinal);
    }

    private static ToolResult Run(string dir, string strata, params string[] args)
    {
        // No library path from the test's environment may help it find a shared SQLite.
        var result = Tool.Run(new ToolCall("env", ["-u", "LD_LIBRARY_PATH", strata, .. args])
        {
            WorkingDirectory = dir,
            Timeout = TimeSpan.FromSeconds(60),
            Check = false,
        });
        Assert.True(result.Succeeded, $"{result.CommandLine} exited {result.ExitCode}: {result.Stderr}{result.Stdout}");
        return result;
    }
}
