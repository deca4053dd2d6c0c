using Strata.Fuse;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Fuse;

/// <summary>
/// The kernel's FUSE passthrough, where the kernel's rules bite: every open of a node must use one backing file, and
/// layers on a stacked file system cannot be backing files at all.
/// </summary>
public class FusePassthroughTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AWriteOpenThatCopiesUpBesideAReadOpenOfTheLowerCopyWorks(bool passthrough)
    {
        Requires.Root();
        Requires.Fuse();
        using var tmp = new TempDir();
        var lower = tmp.CreateDirectory("lower");
        File.WriteAllText(Path.Combine(lower, "f"), "lower copy\n");
        string upper = tmp.CreateDirectory("upper"), work = tmp.CreateDirectory("work"), merged = tmp.CreateDirectory("merged");
        using var session = FuseSession.Mount(new UnionFileSystem(upper, work, [lower]), merged, "strata-passthrough", passthrough: passthrough);
        var path = Path.Combine(merged, "f");
        using (var reader = File.OpenRead(path)) // (in passthrough: to the lower copy)
        {
            // Copies up. In passthrough the kernel may not pass this open to another backing file than the first's, so
            // the name gets a new node (the open is answered ESTALE and the kernel looks it up again).
            using (var writer = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
                writer.Write("upper copy\n"u8); // part of a page: not in the page cache as a whole, so a read asks
            // Served by the daemon, an earlier open reads the copy-up as overlayfs's do; in passthrough it keeps the
            // file it was opened on (the kernel cannot move it), as fuse-overlayfs's opens do.
            Assert.Equal(passthrough ? "lower copy\n" : "upper copy\n", new StreamReader(reader).ReadToEnd());
            Assert.Equal("upper copy\n", File.ReadAllText(path)); // a third open, beside the first
        }
        Assert.Equal("upper copy\n", File.ReadAllText(path)); // all closed: passthrough to the upper copy now
        Assert.Equal("lower copy\n", File.ReadAllText(Path.Combine(lower, "f")));
        Assert.Equal(passthrough, session.Requests(FuseProtocol.Opcode.Read) + session.Requests(FuseProtocol.Opcode.Write) == 0);
    }

    [Fact]
    public void LayersOnAStackedFileSystemAreServedByTheDaemon()
    {
        Requires.Root();
        Requires.Fuse();
        Requires.Overlay();
        using var tmp = new TempDir();
        string below = tmp.CreateDirectory("below"), bottom = tmp.CreateDirectory("bottom");
        File.WriteAllText(Path.Combine(below, "f"), "through two unions\n");
        var stacked = tmp.CreateDirectory("stacked");
        Tool.Run("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={below}:{bottom}", stacked); // a read-only overlay
        try
        {
            string upper = tmp.CreateDirectory("upper"), work = tmp.CreateDirectory("work"), merged = tmp.CreateDirectory("merged");
            using var session = FuseSession.Mount(new UnionFileSystem(upper, work, [stacked]), merged, "strata-stacked");
            Assert.Equal("through two unions\n", File.ReadAllText(Path.Combine(merged, "f")));
            Assert.Equal("through two unions\n", File.ReadAllText(Path.Combine(merged, "f")));
            Assert.True(session.Requests(FuseProtocol.Opcode.Read) > 0); // the kernel refused the backing file: no EIO
        }
        finally
        {
            Tool.Run("umount", stacked);
        }
    }
}
