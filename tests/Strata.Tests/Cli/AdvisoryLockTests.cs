using Strata.Native;
using Strata.Storage;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>
/// .NET's advisory-lock trap (issue 12, part 8): a FileStream by path takes flock LOCK_SH, or LOCK_EX|LOCK_NB for
/// FileShare.None, so a file another process holds an flock on could not be read or written, and Strata's own open
/// files blocked other programs' flocks. Strata opens such files through UnlockedFile (Native/UnlockedFile.cs).
/// </summary>
public class AdvisoryLockTests
{
    [Fact]
    public void FilesOtherProcessesHoldFlocksOnAreReadAndWritten()
    {
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var rootfs = tmp.CreateDirectory("rootfs");
        var busy = Path.Combine(rootfs, "busy.db");
        File.WriteAllText(busy, "held by a service\n");

        // A program holding an exclusive flock on a file of the tree being imported (a database, a pid file).
        using (FlockHolder.Hold(busy, exclusive: true))
            StrataCli.Run(root, "--driver", "vfs", "import", rootfs, "localhost/held:1").Ok();

        StrataCli.Run(root, "--driver", "vfs", "create", "--name", "box", "localhost/held:1").Ok();
        var tree = StrataCli.Run(root, "mount", "box").Ok().Stdout.Trim();
        File.WriteAllText(Path.Combine(tree, "busy.db"), "changed in the container\n");
        using (FlockHolder.Hold(Path.Combine(tree, "busy.db"), exclusive: true))
        {
            // The container's own process holds it: diff, commit and export still read it.
            Assert.Contains("C /busy.db", StrataCli.Run(root, "diff", "box").Ok().Stdout);
            StrataCli.Run(root, "commit", "box", "localhost/held:2").Ok();
            var output = tmp.Combine("box.tar");
            File.WriteAllText(output, "");
            // A reader of the output path (a log shipper, a second export) holds a shared flock on it.
            using (FlockHolder.Hold(output, exclusive: false))
                StrataCli.Run(root, "export", "-o", output, "box").Ok();
            Assert.Contains("changed in the container", File.ReadAllText(output));
        }

        // An archive someone holds exclusively is still loaded.
        var archive = tmp.Combine("held.tar");
        StrataCli.Run(root, "save", "-o", archive, "localhost/held:2").Ok();
        var other = tmp.CreateDirectory("other");
        using (FlockHolder.Hold(archive, exclusive: true))
            StrataCli.Run(other, "load", "-q", "-i", archive).Ok();
    }

    [Fact]
    public void AnIngestFileIsHeldOnlyByItsWritersOwnLockAndTheFinishedBlobByNone()
    {
        using var tmp = new TempDir();
        var content = ContentStore.Open(tmp.Path);
        using var writer = content.OpenWriter();
        writer.Write("partial"u8);
        // Held on purpose while written (IO.OwnerLock: a sweep tells a live writer's file from a killed one's)...
        Assert.True(Strata.IO.OwnerLock.IsHeld(writer.TempPath), "a sweep would take the file of a live writer");
        var (digest, _) = writer.Commit();
        // ...and by nothing once it is a blob: no lock of .NET's or Strata's outlives the writer on content others read.
        using var probe = Libc.OpenForLocking(content.BlobPath(digest), create: false, FileAccess.Read);
        Assert.True(Libc.Lock(probe, exclusive: true, wait: false, "the blob"), "the finished blob still carries an flock");
    }
}
