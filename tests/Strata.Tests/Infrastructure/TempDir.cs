namespace Strata.Tests.Infrastructure;

/// <summary>
/// A fresh directory for one test, on tmpfs when possible (fast, and no ext4 small-file jitter),
/// removed on Dispose together with anything a test left mounted inside it.
/// </summary>
public sealed class TempDir : IDisposable
{
    public static string Root { get; } = PickRoot();

    public string Path { get; }

    public TempDir(string? label = null)
    {
        var name = (label is null ? "" : label + "-") + Guid.NewGuid().ToString("N")[..12];
        Path = Directory.CreateDirectory(System.IO.Path.Combine(Root, name)).FullName;
    }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public string CreateDirectory(params string[] parts) => Directory.CreateDirectory(Combine(parts)).FullName;

    public override string ToString() => Path;

    public void Dispose()
    {
        // Deepest first, lazily: a busy mount must not stop cleanup, nor the rm below cross into it.
        foreach (var mountPoint in MountsBelow(Path).OrderByDescending(m => m.Length))
            Tool.Run(new ToolCall("umount", ["-l", mountPoint]) { Check = false });
        if (!Directory.Exists(Path))
            return;
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) // (a tree past PATH_MAX: ArgumentException)
        {
            Tool.Run(new ToolCall("rm", ["-rf", "--one-file-system", Path]) { Check = false });
        }
    }

    public static IReadOnlyList<string> MountsBelow(string dir)
    {
        var prefix = dir.TrimEnd('/') + "/";
        return File.ReadLines("/proc/self/mountinfo")
            .Select(line => Unescape(line.Split(' ')[4]))
            .Where(m => m == dir.TrimEnd('/') || m.StartsWith(prefix, StringComparison.Ordinal))
            .Distinct()
            .ToList();
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    private static string Unescape(string s)
    {
        if (!s.Contains('\\'))
            return s;
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length)
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(s[i]);
            }
        }
        return sb.ToString();
    }

    private static string PickRoot()
    {
        // scripts/test.sh gives each run its own, so what a run left behind (a mount, say) is told apart from others'.
        if (Environment.GetEnvironmentVariable("STRATA_TEST_TMP") is { Length: > 0 } given)
            return Directory.CreateDirectory(given).FullName;
        // One root per user: a root-owned 0755 directory left by an earlier root run would lock others out.
        var euid = Native.GetEuid();
        var name = euid == 0 ? "strata-tests" : $"strata-tests-{euid}";
        foreach (var candidate in new[] { System.IO.Path.Combine("/dev/shm", name), System.IO.Path.Combine(System.IO.Path.GetTempPath(), name) })
        {
            try
            {
                Directory.CreateDirectory(candidate);
                return candidate;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) // (a tree past PATH_MAX: ArgumentException)
            {
                // /dev/shm may be missing or read-only in some sandboxes; fall back to the temp dir.
            }
        }
        throw new IOException("no writable directory for test files");
    }
}
