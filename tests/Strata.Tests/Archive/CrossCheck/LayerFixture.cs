using System.Text;
using Strata.Archive;
using Strata.Archive.Tar;

namespace Strata.Tests.Archive.CrossCheck;

/// <summary>
/// A temp directory under /dev/shm holding "root" (where layers are applied) and a sibling "outside" with a
/// sentinel file that no layer may touch.
/// </summary>
internal sealed class LayerFixture : IDisposable
{
    public const string SentinelText = "sentinel";

    public string Base { get; } = Path.Combine("/dev/shm", "strata-apply-" + Guid.NewGuid().ToString("N"));
    public string Root => Path.Combine(Base, "root");
    public string Outside => Path.Combine(Base, "outside");
    public string Sentinel => Path.Combine(Outside, "sentinel");

    private readonly XFileStatus _sentinelBefore;

    public LayerFixture()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Sentinel, SentinelText);
        _sentinelBefore = Stat(Sentinel);
    }

    public ApplyResult Apply(params TarEntry[] entries) => LayerApplier.Apply(Root, entries);

    public string In(string relative) => Path.Combine(Root, relative);

    public static XFileStatus Stat(string path) => XLibc.LStatAt(XLibc.AT_FDCWD, path);

    public static bool Exists(string path) => XLibc.TryLStatAt(XLibc.AT_FDCWD, path, out _) == 0;

    /// <summary>The sibling directory still holds exactly the sentinel, unchanged, and nothing else appeared next to root.</summary>
    public void AssertOutsideUntouched()
    {
        Assert.Equal(["outside", "root"], Directory.EnumerateFileSystemEntries(Base).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["sentinel"], Directory.EnumerateFileSystemEntries(Outside).Select(Path.GetFileName));
        Assert.Equal(SentinelText, File.ReadAllText(Sentinel));
        var now = Stat(Sentinel);
        Assert.Equal(_sentinelBefore, now);
        foreach (var probe in new[] { "/pwned", "/etc/pwned", "/dev/shm/pwned", "/tmp/pwned" })
            Assert.False(Exists(probe), probe);
    }

    public void Dispose()
    {
        // Never follow symlinks a test layer left behind.
        if (Directory.Exists(Base)) Directory.Delete(Base, recursive: true);
    }

    public static TarEntry File_(string name, string content = "", int mode = 0x1A4 /* 0644 */) => new()
    {
        Name = name,
        Type = TarEntryType.Regular,
        Mode = mode,
        Size = Encoding.UTF8.GetByteCount(content),
        Data = new MemoryStream(Encoding.UTF8.GetBytes(content)),
    };

    public static TarEntry Dir(string name, int mode = 0x1ED /* 0755 */) => new() { Name = name, Type = TarEntryType.Directory, Mode = mode };

    public static TarEntry Sym(string name, string target) => new() { Name = name, Type = TarEntryType.Symlink, LinkName = target, Mode = 0x1FF };

    public static TarEntry Link(string name, string target, int mode = 0x1FF) =>
        new() { Name = name, Type = TarEntryType.HardLink, LinkName = target, Mode = mode };

    public static TarEntry Whiteout(string name) => File_(name);
}
