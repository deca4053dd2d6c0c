using System.Security.Cryptography;

namespace Strata.Tests.Infrastructure;

/// <summary>
/// Compares two directory trees as an image engine must reproduce them: type, permission bits, owners,
/// size, content, symlink targets, device numbers, nanosecond mtimes, xattr bytes and hard-link groups.
/// Symlinks are never followed. Each difference is one line, "path: what expected != actual".
/// </summary>
public static class TreeComparer
{
    public sealed record Options
    {
        public static readonly Options Default = new();

        /// <summary>Relative paths ("." is the root) whose mtime is not compared.</summary>
        public IReadOnlySet<string> IgnoreMtimeOf { get; init; } = new HashSet<string>();

        /// <summary>False to skip mtimes altogether (e.g. against a tool that stores whole seconds).</summary>
        public bool CompareMtimes { get; init; } = true;

        /// <summary>Xattr names not compared (e.g. security.selinux on hosts that label files).</summary>
        public IReadOnlySet<string> IgnoreXattrs { get; init; } = new HashSet<string>();
    }

    public static IReadOnlyList<string> Compare(string expectedRoot, string actualRoot, Options? options = null)
    {
        options ??= Options.Default;
        var expected = Scan(expectedRoot);
        var actual = Scan(actualRoot);
        var diffs = new List<string>();

        foreach (var (path, e) in expected)
        {
            if (!actual.TryGetValue(path, out var a))
            {
                diffs.Add($"{path}: missing ({e.Stat.TypeName})");
                continue;
            }
            CompareEntry(path, e, a, expected, actual, options, diffs);
        }
        diffs.AddRange(actual.Keys.Where(p => !expected.ContainsKey(p)).Select(p => $"{p}: unexpected ({actual[p].Stat.TypeName})"));
        // Stable order (by path, then by check) keeps failure output diffable between runs.
        return diffs.Order(StringComparer.Ordinal).ToList();
    }

    private sealed record Entry(string FullPath, FileStat Stat);

    private static void CompareEntry(string path, Entry e, Entry a, Tree expected, Tree actual, Options options, List<string> diffs)
    {
        FileStat x = e.Stat, y = a.Stat;
        if (x.Type != y.Type)
        {
            diffs.Add($"{path}: type {x.TypeName} != {y.TypeName}");
            return;
        }
        if (x.Permissions != y.Permissions)
            diffs.Add($"{path}: mode {Convert.ToString(x.Permissions, 8).PadLeft(4, '0')} != {Convert.ToString(y.Permissions, 8).PadLeft(4, '0')}");
        if (x.Uid != y.Uid)
            diffs.Add($"{path}: uid {x.Uid} != {y.Uid}");
        if (x.Gid != y.Gid)
            diffs.Add($"{path}: gid {x.Gid} != {y.Gid}");

        if (x.IsRegular)
        {
            if (x.Size != y.Size)
                diffs.Add($"{path}: size {x.Size} != {y.Size}");
            else if (Hash(e.FullPath) is var hx && Hash(a.FullPath) is var hy && hx != hy)
                diffs.Add($"{path}: content sha256 {hx[..12]} != {hy[..12]}");
        }
        else if (x.IsSymlink)
        {
            string? tx = new FileInfo(e.FullPath).LinkTarget, ty = new FileInfo(a.FullPath).LinkTarget;
            if (tx != ty)
                diffs.Add($"{path}: symlink target '{tx}' != '{ty}'");
        }
        else if (x.IsDevice && (x.RdevMajor, x.RdevMinor) != (y.RdevMajor, y.RdevMinor))
        {
            diffs.Add($"{path}: device {x.RdevMajor}:{x.RdevMinor} != {y.RdevMajor}:{y.RdevMinor}");
        }

        if (options.CompareMtimes && !options.IgnoreMtimeOf.Contains(path) && (x.MtimeSec, x.MtimeNsec) != (y.MtimeSec, y.MtimeNsec))
            diffs.Add($"{path}: mtime {FormatTime(x)} != {FormatTime(y)}");

        CompareXattrs(path, e, a, options, diffs);

        // Directories cannot be hard-linked; their link count only counts subdirectories.
        if (!x.IsDirectory)
        {
            var gx = expected.LinkGroup(path);
            var gy = actual.LinkGroup(path);
            if (!gx.SequenceEqual(gy))
                diffs.Add($"{path}: hard links [{string.Join(", ", gx)}] != [{string.Join(", ", gy)}]");
        }
    }

    private static void CompareXattrs(string path, Entry e, Entry a, Options options, List<string> diffs)
    {
        var xs = Native.LXattrs(e.FullPath);
        var ys = Native.LXattrs(a.FullPath);
        foreach (var name in xs.Keys.Union(ys.Keys).Where(n => !options.IgnoreXattrs.Contains(n)).Order(StringComparer.Ordinal))
        {
            var hasX = xs.TryGetValue(name, out var vx);
            var hasY = ys.TryGetValue(name, out var vy);
            if (!hasX)
                diffs.Add($"{path}: xattr {name} unexpected (0x{Convert.ToHexStringLower(vy!)})");
            else if (!hasY)
                diffs.Add($"{path}: xattr {name} missing (0x{Convert.ToHexStringLower(vx!)})");
            else if (!vx!.AsSpan().SequenceEqual(vy))
                diffs.Add($"{path}: xattr {name} 0x{Convert.ToHexStringLower(vx!)} != 0x{Convert.ToHexStringLower(vy!)}");
        }
    }

    private static string FormatTime(FileStat s) =>
        DateTimeOffset.FromUnixTimeSeconds(s.MtimeSec).ToString("yyyy-MM-ddTHH:mm:ss") + $".{s.MtimeNsec:D9}Z";

    private static string Hash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>All entries of one tree by relative path, plus its hard-link groups.</summary>
    private sealed class Tree : Dictionary<string, Entry>
    {
        private readonly Dictionary<(uint, uint, ulong), List<string>> byInode = [];

        public Tree() : base(StringComparer.Ordinal) { }

        public void Add(string rel, string full, FileStat stat)
        {
            this[rel] = new Entry(full, stat);
            if (stat.IsDirectory)
                return;
            var key = (stat.DevMajor, stat.DevMinor, stat.Ino);
            if (!byInode.TryGetValue(key, out var group))
                byInode[key] = group = [];
            group.Add(rel);
        }

        public IReadOnlyList<string> LinkGroup(string rel)
        {
            var s = this[rel].Stat;
            return byInode[(s.DevMajor, s.DevMinor, s.Ino)].Order(StringComparer.Ordinal).ToList();
        }
    }

    private static readonly EnumerationOptions AllEntries = new()
    {
        AttributesToSkip = 0, // the default skips "hidden" names, i.e. .wh.* whiteouts and dotfiles
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    private static Tree Scan(string root)
    {
        root = Path.GetFullPath(root).TrimEnd('/');
        if (!Native.LStat(root).IsDirectory)
            throw new ArgumentException($"{root} is not a directory", nameof(root));
        var tree = new Tree();
        var pending = new Stack<(string Rel, string Full)>();
        pending.Push((".", root));
        while (pending.TryPop(out var dir))
        {
            tree.Add(dir.Rel, dir.Full, Native.LStat(dir.Full));
            foreach (var full in Directory.EnumerateFileSystemEntries(dir.Full, "*", AllEntries))
            {
                var name = Path.GetFileName(full);
                var rel = dir.Rel == "." ? name : dir.Rel + "/" + name;
                var stat = Native.LStat(full);
                if (stat.IsDirectory)
                    pending.Push((rel, full)); // a real directory; symlinks to directories are not entered
                else
                    tree.Add(rel, full, stat);
            }
        }
        return tree;
    }
}
