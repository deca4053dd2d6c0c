using Strata.Archive;
using Strata.Archive.Tar;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Archive;

/// <summary>Layers written as code, and a sandbox with a directory outside the root that must never change.</summary>
internal static class L
{
    public static int Oct(string s) => Convert.ToInt32(s, 8);
    public static TarEntry Dir(string n, string mode = "755", long mtime = 1_600_000_000) => new() { Name = n, Type = TarEntryType.Directory, Mode = Oct(mode), MTimeSeconds = mtime };
    public static TarEntry File(string n, string content = "x", string mode = "644", int uid = 0, int gid = 0) =>
        new() { Name = n, Mode = Oct(mode), Size = content.Length, Uid = uid, Gid = gid, MTimeSeconds = 1_600_000_000, Data = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) };
    public static TarEntry Sym(string n, string target) => new() { Name = n, Type = TarEntryType.Symlink, LinkName = target, Mode = Oct("777") };
    public static TarEntry Hard(string n, string target) => new() { Name = n, Type = TarEntryType.HardLink, LinkName = target };
    public static TarEntry Wh(string n) => new() { Name = n };
}

internal sealed class Sandbox : IDisposable
{
    private readonly TempDir _tmp = new();

    public Sandbox()
    {
        Root = _tmp.CreateDirectory("root");
        Outside = _tmp.CreateDirectory("outside");
        File.WriteAllText(Path.Combine(Outside, "sentinel"), "keep");
        Directory.CreateDirectory(Path.Combine(Outside, "sub"));
        File.WriteAllText(Path.Combine(Outside, "sub", "f"), "keep too");
        Pristine = _tmp.Combine("pristine");
        Tool.Run("cp", "-a", Outside, Pristine);
    }

    public string Root { get; }
    public string Outside { get; }
    private string Pristine { get; }

    public string At(string relative) => Path.Combine(Root, relative);

    public ApplyResult Apply(params TarEntry[] entries) => LayerApplier.Apply(Root, entries);

    /// <summary>Nothing outside the root changed, and nothing new appeared beside it.</summary>
    public void AssertOutsideUntouched()
    {
        var diff = TreeComparer.Compare(Pristine, Outside);
        Assert.True(diff.Count == 0, "outside the root changed:\n" + string.Join('\n', diff));
        Assert.Equal(["outside", "pristine", "root"], Directory.EnumerateFileSystemEntries(_tmp.Path).Select(Path.GetFileName).Order().ToArray());
    }

    public void Dispose() => _tmp.Dispose();
}
