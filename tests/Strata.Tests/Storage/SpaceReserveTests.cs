using Strata.Storage;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Storage;

/// <summary>The store's space reserve: made only with ample room, given up only when the disk is nearly full.</summary>
public class SpaceReserveTests
{
    [Fact]
    public void TheReserveIsMadeWithRoomAndGivenUpOnlyWhenSpaceIsLow()
    {
        using var tmp = new TempDir();
        using var fs = new SmallFileSystem(tmp, 16 << 20);
        var reserve = Path.Combine(fs.Path, "reserve");

        SpaceReserve.Ensure(fs.Path);
        Assert.Equal(SpaceReserve.Size, new FileInfo(reserve).Length);
        Assert.False(SpaceReserve.ReleaseIfLow(fs.Path)); // 15 MiB free: kept
        Assert.True(File.Exists(reserve));

        fs.Fill(leave: 1 << 20);
        Assert.True(SpaceReserve.ReleaseIfLow(fs.Path));
        Assert.False(File.Exists(reserve));
        SpaceReserve.Ensure(fs.Path); // 2 MiB free: making it would take what a freeing verb just won
        Assert.False(File.Exists(reserve));

        fs.Free();
        File.WriteAllText(reserve + ".tmp", "left by a killed writer");
        File.SetLastWriteTimeUtc(reserve + ".tmp", DateTime.UtcNow.AddMinutes(-5));
        SpaceReserve.Ensure(fs.Path); // clears the leftover; the next one makes the reserve
        Assert.False(File.Exists(reserve + ".tmp"));
        SpaceReserve.Ensure(fs.Path);
        Assert.Equal(SpaceReserve.Size, new FileInfo(reserve).Length);
    }
}
