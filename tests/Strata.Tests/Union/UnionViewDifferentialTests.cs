using System.Security.Cryptography;
using Strata.Archive;
using Strata.Archive.Tar;
using Strata.Native;
using Strata.Tests.Infrastructure;
using Strata.Union;
using static Strata.Tests.Archive.L;

namespace Strata.Tests.Union;

/// <summary>
/// The managed union view must agree with the kernel: random layer stacks, random container operations through a
/// real overlay mount, then the kernel's merged tree and Strata's view compared entry by entry. A divergence
/// fails with the operations that led to it.
/// </summary>
public class UnionViewDifferentialTests
{
    private static readonly string[] Names = ["a", "b", "c", "d"];

    private static string RandomPath(Random rnd, int maxDepth = 3, string[]? names = null)
    {
        names ??= Names;
        return string.Join('/', Enumerable.Range(0, rnd.Next(1, maxDepth + 1)).Select(_ => names[rnd.Next(names.Length)]));
    }

    internal static List<TarEntry> RandomLayer(Random rnd, bool withWhiteouts)
    {
        var entries = new List<TarEntry>();
        for (int i = rnd.Next(6, 14); i > 0; i--)
        {
            var path = RandomPath(rnd);
            switch (rnd.Next(withWhiteouts ? 6 : 4))
            {
                case 0: entries.Add(Dir(path, rnd.Next(2) == 0 ? "755" : "700")); break;
                case 1 or 2: entries.Add(File(path, new string('x', rnd.Next(0, 50)), rnd.Next(2) == 0 ? "644" : "600")); break;
                case 3: entries.Add(Sym(path, rnd.Next(3) switch { 0 => "../a", 1 => "/abs/target", _ => "dangling" })); break;
                case 4: var (d, n) = LayerPaths.Split(path); entries.Add(Wh(LayerPaths.Join(d, ".wh." + n))); break;
                default: entries.Add(Wh(LayerPaths.Join(LayerPaths.Split(path).Dir, ".wh..wh..opq"))); break;
            }
        }
        return entries;
    }

    /// <summary>One random container operation; deterministic for a given Random (contents too).</summary>
    internal static string Op(Random rnd, string merged, string[]? names = null)
    {
        var p = RandomPath(rnd, names: names);
        var q = RandomPath(rnd, names: names);
        var data = new byte[rnd.Next(0, 3000)];
        rnd.NextBytes(data);
        var full = Path.Combine(merged, p);
        var other = Path.Combine(merged, q);
        string what;
        try
        {
            switch (rnd.Next(14))
            {
                case 0: what = $"write {p}"; System.IO.File.WriteAllBytes(full, data); break;
                case 1: what = $"append {p}"; System.IO.File.AppendAllText(full, "appended"); break;
                case 2: what = $"truncate {p}"; using (var f = new FileStream(full, FileMode.Open, FileAccess.Write)) f.SetLength(rnd.Next(0, 10)); break;
                case 3: what = $"chmod {p}"; System.IO.File.SetUnixFileMode(full, (UnixFileMode)rnd.Next(0, 512)); break;
                case 4: what = $"chown {p}"; Libc.Check(Libc.FchownAt(Libc.AT_FDCWD, full, rnd.Next(0, 3000), rnd.Next(0, 3000), Libc.AT_SYMLINK_NOFOLLOW), "chown", p); break;
                case 5: what = $"utimes {p}"; System.IO.File.SetLastWriteTimeUtc(full, new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc).AddSeconds(rnd.Next(1000))); break;
                case 6: what = $"rename {p} {q}"; if (Directory.Exists(full)) Tool.Run("mv", "-T", full, other); else System.IO.File.Move(full, other, overwrite: true); break;
                case 7: what = $"unlink {p}"; System.IO.File.Delete(full); break;
                case 8: what = $"rm -r {p}"; Directory.Delete(full, recursive: true); break;
                case 9: what = $"rm -r + mkdir {p}"; Directory.Delete(full, recursive: true); Directory.CreateDirectory(Path.Combine(full, "fresh")); break;
                case 10: what = $"mkdir {p}"; Directory.CreateDirectory(full); break;
                case 11: what = $"symlink {p} -> {q}"; System.IO.File.CreateSymbolicLink(full, q); break;
                case 12: what = $"link {q} {p}"; Libc.Check(Libc.LinkAt(Libc.AT_FDCWD, other, Libc.AT_FDCWD, full, 0), "link", p); break;
                default: what = $"rmdir {p}"; Directory.Delete(full); break;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Strata.Errors.StrataException or ToolException)
        {
            return $"(failed) {e.GetType().Name}";
        }
        return what;
    }

    private static string Describe(string path, Libc.Statx st, string source, string? linkTarget)
    {
        var type = st.Type switch { Libc.S_IFDIR => "d", Libc.S_IFREG => "f", Libc.S_IFLNK => "l", _ => "o" };
        var content = st.IsRegular ? Convert.ToHexString(SHA256.HashData(System.IO.File.ReadAllBytes(source)))[..16] : "";
        var time = st.IsDirectory ? "" : $"{st.Mtime.Seconds}.{st.Mtime.Nanoseconds}";
        return $"{path} {type} {Convert.ToString(st.Mode & 0xfff, 8)} {st.Uid}:{st.Gid} {(st.IsDirectory ? 0 : st.Size)} {content} {linkTarget} {time}";
    }

    internal static List<string> Kernel(string merged, string dir = "")
    {
        var lines = new List<string>();
        foreach (var name in Directory.EnumerateFileSystemEntries(Path.Combine(merged, dir)).Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            var rel = LayerPaths.Join(dir, name!);
            var full = Path.Combine(merged, rel);
            if (!Libc.TryLstatAt(Libc.AT_FDCWD, full, out var st))
            {
                lines.Add($"{rel} listed but not found"); // the kernel lists a name its lookup cannot find
                continue;
            }
            lines.Add(Describe(rel, st, full, st.IsSymlink ? Libc.ReadLinkAt(Libc.AT_FDCWD, full) : null));
            if (st.IsDirectory) lines.AddRange(Kernel(merged, rel));
        }
        return lines;
    }

    internal static List<string> Managed(IReadOnlyList<string> layersTopFirst) =>
        new UnionView(layersTopFirst).Walk()
            .Select(e => Describe(e.Path, e.Stat, e.Source, e.Stat.IsSymlink ? Libc.ReadLinkAt(Libc.AT_FDCWD, e.Source) : null))
            .ToList();

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 25)];

    /// <summary>Three random layers applied in overlay form, base first.</summary>
    internal static List<string> MakeLayers(Random rnd, TempDir tmp)
    {
        var layers = new List<string>(); // base first
        for (int i = 0; i < 3; i++)
        {
            var dir = tmp.CreateDirectory($"layer{i}");
            while (true)
            {
                try
                {
                    LayerApplier.Apply(dir, RandomLayer(rnd, withWhiteouts: i > 0),
                        new ApplyOptions { Whiteouts = WhiteoutMode.Overlay, LowerDirectories = Enumerable.Reverse(layers).ToList() });
                    break;
                }
                catch (Strata.Errors.StrataException e) when (e.Message.Contains("symbolic links", StringComparison.Ordinal))
                {
                    // The generator made a symlink loop with entries below it: a layer no tool can apply. Draw another.
                    Directory.Delete(dir, recursive: true);
                    Directory.CreateDirectory(dir);
                }
            }
            layers.Add(dir);
        }
        return layers;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void KernelAndManagedViewAgree(int seed)
    {
        Requires.Root();
        Requires.Overlay();
        var rnd = new Random(seed);
        using var tmp = new TempDir();
        var layers = MakeLayers(rnd, tmp);
        var upper = tmp.CreateDirectory("upper");
        var work = tmp.CreateDirectory("work");
        var merged = tmp.CreateDirectory("merged");
        var stack = new List<string> { upper };
        stack.AddRange(Enumerable.Reverse(layers));
        Tool.Run("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={string.Join(':', Enumerable.Reverse(layers))},upperdir={upper},workdir={work},index=off", merged);
        var ops = new List<string>();
        try
        {
            void Compare()
            {
                var kernel = Kernel(merged);
                var managed = Managed(stack);
                if (kernel.SequenceEqual(managed)) return;
                var onlyKernel = kernel.Except(managed).Take(10);
                var onlyManaged = managed.Except(kernel).Take(10);
                Assert.Fail($"seed {seed}: views diverge after:\n  {string.Join("\n  ", ops)}\nkernel only:\n  {string.Join("\n  ", onlyKernel)}\nstrata only:\n  {string.Join("\n  ", onlyManaged)}");
            }
            Compare();
            for (int step = 1; step <= 60; step++)
            {
                ops.Add(Op(rnd, merged));
                if (step % 10 == 0) Compare();
            }
        }
        finally
        {
            Tool.Run("umount", merged);
        }
    }
}
