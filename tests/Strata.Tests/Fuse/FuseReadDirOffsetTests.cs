using System.Runtime.InteropServices;
using System.Text;
using Strata.Fuse;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Fuse;

/// <summary>
/// readdir offsets mean the same to every open of a directory: the kernel's directory cache is filled by whichever
/// open reads first, and a reader that runs past it goes on with its own open from the last offset it got. A
/// listing handed out that way never repeats a name, even when the directory changed between the two opens.
/// </summary>
public class FuseReadDirOffsetTests
{
    private const ulong Root = 1;

    [Fact]
    public void AReaderGoingOnWithItsOwnOpenFromAnotherOpensOffsetRepeatsNoName()
    {
        using var tmp = new TempDir();
        var lower = tmp.CreateDirectory("lower");
        foreach (var n in new[] { "a", "b", "c", "d", "e", "f" }) File.WriteAllText(Path.Combine(lower, n), n);
        var fs = new UnionFileSystem(tmp.CreateDirectory("upper"), tmp.CreateDirectory("work"), [lower]);

        // Open A lists first; then its first name goes and another is made; open B lists again (the kernel's cache
        // refilled from B).
        Assert.Equal(0, fs.OpenDir(Root, out var a));
        var gone = Read(fs, a, 0)[2].Name;
        Assert.Equal(0, fs.Unlink(Root, gone));
        Assert.Equal(0, fs.Mkdir(Root, "0-made-later", 0x1ed, new FuseCaller(0, 0, 0), out _));
        Assert.Equal(0, fs.OpenDir(Root, out var b));
        var fromB = Read(fs, b, 0).Take(5).ToList();

        // A reader that got B's first five goes on with A from the last offset it got.
        var fromA = Read(fs, a, fromB[^1].Offset);
        var names = fromB.Concat(fromA).Select(e => e.Name).ToList();
        Assert.True(names.Count == names.Distinct().Count(), "listed twice: " + string.Join(" ", names));
        Assert.DoesNotContain(gone, names.Take(5));
        Assert.Equal(["a", "b", "c", "d", "e", "f"], names.Where(n => n.Length == 1 && char.IsAsciiLetterLower(n[0])).Append(gone).Order().Distinct());
        fs.ReleaseDir(a);
        fs.ReleaseDir(b);
    }

    /// <summary>One READDIR from <paramref name="offset"/>: the names and next offsets in a page of 4 KiB.</summary>
    private static List<(string Name, long Offset)> Read(UnionFileSystem fs, ulong fh, long offset)
    {
        var page = new byte[4096];
        var buffer = new DirentBuffer(page);
        Assert.Equal(0, fs.ReadDir(Root, fh, offset, plus: false, ref buffer));
        var result = new List<(string, long)>();
        for (int at = 0; at < buffer.Length;)
        {
            var d = MemoryMarshal.Read<FuseProtocol.Dirent>(page.AsSpan(at));
            int head = Marshal.SizeOf<FuseProtocol.Dirent>();
            result.Add((Encoding.UTF8.GetString(page, at + head, (int)d.NameLen), (long)d.Off));
            at += (head + (int)d.NameLen + 7) & ~7;
        }
        return result;
    }
}
