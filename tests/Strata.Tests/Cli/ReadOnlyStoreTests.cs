using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>
/// A store that cannot be written, because its file system is mounted read-only or because the user may only read
/// it: every read verb works, and every verb that would change it is refused with one line.
/// </summary>
public class ReadOnlyStoreTests
{
    private const string Busybox = "docker.io/strata-test/busybox:latest";
    private const string User = "65534";

    /// <summary>busybox, a tiny image whose files anyone may read, and a container "t" on it.</summary>
    private static void Populate(string root, string rootfs)
    {
        StrataCli.Run(root, "--driver", "vfs", "load", "-q", "-i", SampleImages.Get("busybox").DockerArchive).Ok();
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        File.WriteAllText(Path.Combine(rootfs, "etc", "hello"), "hello\n");
        Tool.Run("chmod", "-R", "a+rX", rootfs);
        StrataCli.Run(root, "import", rootfs, "localhost/tiny:1").Ok();
        StrataCli.Run(root, "create", "--name", "t", "localhost/tiny:1").Ok();
    }

    /// <summary>The read verbs, each with what it must print.</summary>
    private static void AssertReadsWork(Func<string[], CliResult> strata, string outDir)
    {
        Assert.Contains("localhost/tiny", strata(["images"]).Ok().Stdout, StringComparison.Ordinal);
        Assert.Contains("\"Id\"", strata(["inspect", Busybox]).Ok().Stdout, StringComparison.Ordinal);
        Assert.NotEqual("", strata(["history", "-q", Busybox]).Ok().Stdout.Trim());
        Assert.Contains(" t", strata(["ps"]).Ok().Stdout, StringComparison.Ordinal);
        Assert.Contains("Images", strata(["df"]).Ok().Stdout, StringComparison.Ordinal);
        strata(["diff", "t"]).Ok();
        var saved = Path.Combine(outDir, "saved.tar");
        strata(["save", "-o", saved, Busybox]).Ok();
        Assert.Contains("manifest.json", Tool.Run("tar", "tf", saved).Stdout, StringComparison.Ordinal);
        var exported = Path.Combine(outDir, "exported.tar");
        strata(["export", "-o", exported, "t"]).Ok();
        Assert.Contains("etc/hello", Tool.Run("tar", "tf", exported).Stdout, StringComparison.Ordinal);
    }

    /// <summary>Each changing verb fails with exactly one line saying why, and the exit code given.</summary>
    private static void AssertChangesRefused(Func<string[], CliResult> strata, string rootfs, int exitCode, string why)
    {
        string[][] verbs =
        [
            ["load", "-i", SampleImages.Get("busybox").OciArchive], ["import", rootfs, "localhost/other:1"], ["tag", Busybox, "localhost/x:1"],
            ["rmi", Busybox], ["prune"], ["create", Busybox], ["mount", "t"], ["rm", "t"], ["commit", "t", "localhost/y:1"],
        ];
        foreach (var verb in verbs)
        {
            var r = strata(verb);
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(r.ExitCode == exitCode && lines.Length == 1 && lines[0].Contains(why, StringComparison.Ordinal),
                $"strata {string.Join(' ', verb)}: exit {r.ExitCode}: {r.Stderr}");
        }
    }

    [Fact]
    public void AStoreOnAReadOnlyMountCanBeReadAndNotChanged()
    {
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 32 << 20);
        var root = Path.Combine(fs.Path, "store");
        var rootfs = tmp.CreateDirectory("rootfs");
        Populate(root, rootfs);
        fs.Remount(readOnly: true);

        Func<string[], CliResult> strata = args => StrataCli.Run(root, args);
        AssertReadsWork(strata, tmp.CreateDirectory("out"));
        AssertChangesRefused(strata, rootfs, 10, "read-only file system");

        fs.Remount(readOnly: false);
        StrataCli.Run(root, "tag", Busybox, "localhost/x:1").Ok();
    }

    [Fact]
    public void AUserWhoMayOnlyReadTheStoreCanReadItAndNotChangeIt()
    {
        Requires.Root();
        Requires.Tool("setpriv");
        Requires.PublishedStrata();
        using var tmp = new TempDir();
        Tool.Run("chmod", "0755", tmp.Path);
        var root = tmp.Combine("store");
        var rootfs = tmp.CreateDirectory("rootfs");
        Populate(root, rootfs);
        var bin = Path.Combine(StrataForOtherUsers.CopyInto(tmp)!, "strata");
        var outDir = tmp.CreateDirectory("out");
        Tool.Run("chown", User, outDir);

        Func<string[], CliResult> strata = args =>
        {
            var r = Tool.Run(new ToolCall("setpriv", ["--reuid=" + User, "--regid=" + User, "--clear-groups", "env", "HOME=" + outDir, bin, "--root", root, .. args])
            { Check = false, WorkingDirectory = outDir, Timeout = TimeSpan.FromSeconds(60) });
            return new CliResult(r.ExitCode, r.Stdout, r.Stderr);
        };
        AssertReadsWork(strata, outDir);
        AssertChangesRefused(strata, rootfs, 7, "no write access");
        // Nothing the reader did left a file the owner cannot use.
        StrataCli.Run(root, "tag", Busybox, "localhost/x:1").Ok();
    }
    [Fact]
    public void AReadOnlyStoreWhoseWriterWasKilledSaysSoRatherThanShowAnOldState()
    {
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 32 << 20);
        var live = Path.Combine(fs.Path, "live");
        StrataCli.Run(live, "load", "-q", "-i", SampleImages.Get("busybox").DockerArchive).Ok();
        // A commit still in the WAL when its writer died: the files as a kill -9 leaves them, copied while it is open.
        var crashed = Path.Combine(fs.Path, "crashed");
        using (var writer = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(live, "strata.db")};Pooling=False"))
        {
            writer.Open();
            using (var cmd = writer.CreateCommand())
            {
                cmd.CommandText = "PRAGMA wal_autocheckpoint = 0; INSERT INTO names(name, image_id, added) SELECT 'localhost/last:1', id, 'now' FROM images;";
                cmd.ExecuteNonQuery();
            }
            Tool.Run("cp", "-a", live, crashed);
        }
        Assert.True(new FileInfo(Path.Combine(crashed, "strata.db-wal")).Length > 32, "the copy holds no WAL frames");
        File.Delete(Path.Combine(crashed, "strata.db-shm"));
        fs.Remount(readOnly: true);

        var r = StrataCli.Run(crashed, "images");
        Assert.True(r.ExitCode == 10 && r.Stderr.Trim().Split('\n').Length == 1 && r.Stderr.Contains("interrupted writer", StringComparison.Ordinal),
            $"exit {r.ExitCode}: {r.Stderr}{r.Stdout}");

        fs.Remount(readOnly: false);
        Assert.Contains("localhost/last", StrataCli.Run(crashed, "images").Ok().Stdout, StringComparison.Ordinal);
    }
}
