using System.Diagnostics;
using System.Text;
using Strata.Archive;
using Strata.Archive.Compression;
using Strata.Archive.Tar;

namespace Strata.Tests.Archive;

/// <summary>
/// Extracts one archive with bsdtar (as root: owners, modes and xattrs restored) and with Strata's reader and
/// applier, and compares the two trees: names, types, modes, owners, sizes, content, link targets, hard-link
/// groups and user.* xattrs. Names are compared as bytes (Latin-1 keeps each byte as one char).
/// </summary>
internal static class BsdtarComparison
{
    private static readonly Encoding Bytes = Encoding.Latin1;

    /// <summary>What each tool made of an archive: its tree, or why it refused.</summary>
    public sealed record Outcome(SortedDictionary<string, string>? Tree, string? Error);

    /// <summary>Null when both tools agree; otherwise the first difference.</summary>
    public static string? Compare(string archive, string scratch, out Outcome bsdtar, out Outcome strata)
    {
        string bsdDir = Path.Combine(scratch, "bsdtar"), strataDir = Path.Combine(scratch, "strata");
        Directory.CreateDirectory(bsdDir);
        Directory.CreateDirectory(strataDir);
        // Numeric owners, no ACLs or file flags: what an OCI runtime applies (bsdtar would map names through
        // this machine's passwd). A UTF-8 locale, or bsdtar refuses PAX names it cannot convert.
        var (code, stderr) = Run(scratch, "env", "LC_ALL=C.UTF-8", "bsdtar", "-xpf", archive, "-C", bsdDir,
            "--numeric-owner", "--no-acls", "--no-fflags");
        bsdtar = code == 0 ? new(Snapshot(bsdDir, scratch), null) : new(null, stderr.Trim());
        string? error = ExtractWithStrata(archive, scratch, strataDir);
        strata = error == null ? new(Snapshot(strataDir, scratch), null) : new(null, error);
        if (bsdtar.Tree == null || strata.Tree == null)
            return (bsdtar.Tree == null) == (strata.Tree == null) ? null
                : bsdtar.Tree == null ? $"bsdtar refuses ({bsdtar.Error}), strata extracts" : $"strata refuses ({strata.Error}), bsdtar extracts";
        foreach (var name in bsdtar.Tree.Keys.Union(strata.Tree.Keys).Order(StringComparer.Ordinal))
        {
            string b = bsdtar.Tree.GetValueOrDefault(name, "(missing)"), s = strata.Tree.GetValueOrDefault(name, "(missing)");
            if (b != s)
                return $"{Escape(name)}: bsdtar {b}, strata {s}";
        }
        return null;
    }

    public static string Escape(string latin1Name) =>
        string.Concat(latin1Name.Select(c => c is >= ' ' and < '\x7f' ? c.ToString() : $"\\x{(int)c:x2}"));

    /// <summary>
    /// Strata's reading of the archive. What is neither gzip nor zstd goes through bsdcat first (a plain tar comes
    /// out as it went in), so that the tar inside archives in compressions Strata refuses is still compared.
    /// </summary>
    private static string? ExtractWithStrata(string archive, string scratch, string dir)
    {
        var head = new byte[CompressionDetector.MaxLookAhead];
        int n;
        using (var f = File.OpenRead(archive))
            n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        string input = archive;
        if (CompressionDetector.Detect(head.AsSpan(0, n)) == Strata.Oci.Compression.None)
        {
            input = Path.Combine(scratch, "plain.tar");
            var (code, stderr) = Run(scratch, "sh", "-c", "bsdcat \"$0\" > \"$1\"", archive, input);
            if (code != 0)
                return "bsdcat: " + stderr.Trim();
        }
        try
        {
            using var stream = File.OpenRead(input);
            using var plain = LayerStreams.OpenDecompressed(stream, out _);
            using var reader = new TarReader(plain);
            LayerApplier.Apply(dir, reader.Entries());
            return null;
        }
        catch (Strata.Errors.StrataException e)
        {
            return e.Message;
        }
    }

    /// <summary>One line of attributes per path, keyed by the path's bytes.</summary>
    private static SortedDictionary<string, string> Snapshot(string dir, string scratch)
    {
        string meta = Path.Combine(scratch, "meta"), sums = Path.Combine(scratch, "sums"), attrs = Path.Combine(scratch, "attrs");
        var (code, stderr) = Run(dir, "sh", "-c",
            "find . -mindepth 1 -printf '%P\\0%y\\0%m\\0%U\\0%G\\0%s\\0%l\\0%i\\0' > \"$0\" && "
            + "find . -mindepth 1 -type f -print0 | xargs -0r sha256sum -z > \"$1\" && "
            + "{ getfattr -R -h -d -m '^user\\.' -e hex . > \"$2\" 2>/dev/null || true; }", meta, sums, attrs);
        Assert.True(code == 0, stderr);

        var fields = Bytes.GetString(File.ReadAllBytes(meta)).Split('\0');
        var rows = new List<(string Name, string Type, string Line, string Inode)>();
        for (int i = 0; i + 8 <= fields.Length; i += 8)
        {
            string type = fields[i + 1];
            string line = $"{type} {fields[i + 2]} {fields[i + 3]}:{fields[i + 4]}"
                + (type == "f" ? $" size {fields[i + 5]}" : "") + (type == "l" ? $" -> {Escape(fields[i + 6])}" : "");
            rows.Add((fields[i], type, line, fields[i + 7]));
        }
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var firstOfInode = rows.Where(r => r.Type == "f").GroupBy(r => r.Inode)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Name).Min(StringComparer.Ordinal)!);
        foreach (var r in rows)
        {
            string line = r.Line;
            if (r.Type == "f" && firstOfInode[r.Inode] != r.Name)
                line += $" linked to {Escape(firstOfInode[r.Inode])}";
            tree[r.Name] = line;
        }
        foreach (var record in Bytes.GetString(File.ReadAllBytes(sums)).Split('\0', StringSplitOptions.RemoveEmptyEntries))
            tree[record[(64 + 2 + 2)..]] += " sha256 " + record[..12];
        string? current = null;
        foreach (var line in File.ReadAllLines(attrs, Bytes))
        {
            if (line.StartsWith("# file: ", StringComparison.Ordinal))
                current = line["# file: ".Length..];
            else if (current != null && line.Length > 0)
                tree[current] = tree.GetValueOrDefault(current, "(not listed by find)") + " xattr " + line;
        }
        return tree;
    }

    public static (int Code, string Stderr) Run(string workingDirectory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = workingDirectory, RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish in 2 minutes");
        }
        _ = stdout.Result;
        return (p.ExitCode, stderr.Result);
    }
}
