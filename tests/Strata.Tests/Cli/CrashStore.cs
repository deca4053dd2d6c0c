using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>An image as <c>images --format json</c> and <c>inspect</c> show it.</summary>
public sealed record CrashImage(string Id, string ManifestDigest, IReadOnlyList<string> Names);

/// <summary>A container as <c>ps --format json</c> shows it.</summary>
public sealed record CrashContainer(string Id, string Name, string ImageId, bool Mounted);

/// <summary>
/// One store under kill -9: runs strata with a bound on every wait, kills it at a given point, and checks the store
/// as a user would after a crash: every command works, nothing half-done shows, and check plus prune leave no file
/// the records do not name. Every failure message carries <see cref="Context"/> (verb, iteration, delay, seed).
/// </summary>
public sealed class CrashStore(string root)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public string Root { get; } = root;

    /// <summary>Says where a failure happened and how to repeat it.</summary>
    public string Context { get; set; } = "";

    public CliResult Run(params string[] args) => RunEnv(null, args);

    public CliResult RunEnv(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        using var p = StrataCli.Start(Root, env, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Bound))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{Context}: strata {string.Join(' ', args)} did not finish in {Bound.TotalSeconds} s");
        }
        p.WaitForExit();
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    public CliResult Ok(params string[] args) => OkEnv(null, args);

    public CliResult OkEnv(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var r = RunEnv(env, args);
        Assert.True(r.ExitCode == 0, $"{Context}: strata {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}{r.Stdout}");
        return r;
    }

    /// <summary>Starts strata and sends SIGKILL after <paramref name="delayMs"/>; returns whether it had already finished (then with exit 0).</summary>
    public bool Kill(int delayMs, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        using var p = StrataCli.Start(Root, env, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        bool finished = p.WaitForExit(delayMs);
        if (!finished)
        {
            try { p.Kill(); } // SIGKILL, the process alone: a FUSE daemon it started lives on, as after a power cut it would not
            catch (InvalidOperationException) { finished = true; }
        }
        Assert.True(p.WaitForExit(Bound), $"{Context}: a killed strata {args[0]} did not end in {Bound.TotalSeconds} s");
        p.WaitForExit();
        if (finished && p.ExitCode != 137 && p.ExitCode != -1)
            Assert.True(p.ExitCode == 0, $"{Context}: strata {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}{stdout.Result}");
        return finished && p.ExitCode == 0;
    }

    public IReadOnlyList<CrashImage> Images()
    {
        using var doc = JsonDocument.Parse(Ok("images", "--format", "json").Stdout);
        return doc.RootElement.EnumerateArray().Select(e => new CrashImage(e.GetProperty("Id").GetString()!, e.GetProperty("Digest").GetString()!,
            e.GetProperty("Names").EnumerateArray().Select(n => n.GetString()!).ToList())).ToList();
    }

    public IReadOnlyList<CrashContainer> Containers()
    {
        using var doc = JsonDocument.Parse(Ok("ps", "--format", "json").Stdout);
        return doc.RootElement.EnumerateArray().Select(e => new CrashContainer(e.GetProperty("Id").GetString()!, e.GetProperty("Names")[0].GetString()!,
            e.GetProperty("ImageID").GetString()!, e.GetProperty("Mounted").GetBoolean())).ToList();
    }

    public CrashImage? ImageNamed(string name) => Images().FirstOrDefault(i => i.Names.Contains(name));

    public CrashContainer? ContainerNamed(string name) => Containers().FirstOrDefault(c => c.Name == name);

    /// <summary>
    /// (a) and (b): every read verb answers, every listed image is whole (its blobs all there: the quick check finds no
    /// image problem), every listed container reads, and a surviving image still makes a container that mounts.
    /// </summary>
    public void AssertUsable(string probeImage)
    {
        var images = Images();
        Assert.True(images.Count > 0, $"{Context}: no image listed, not even the base image {probeImage}");
        using (var inspect = JsonDocument.Parse(Ok(["inspect", .. images.Select(i => i.Id)]).Stdout))
            Assert.Equal(images.Count, inspect.RootElement.GetArrayLength());
        Ok("df");
        foreach (var c in Containers())
        {
            Ok("mount", c.Id); // one more user of a mounted one, or a fresh mount: either way it serves, and the count is as it was after
            Ok("umount", c.Id);
        }
        var quick = Run("system", "check", "--quick", "--format", "json");
        using (var problems = JsonDocument.Parse(quick.Stdout))
        {
            var imageProblems = problems.RootElement.GetProperty("Problems").EnumerateArray()
                .Where(p => p.GetProperty("Subject").GetString()!.StartsWith("image ", StringComparison.Ordinal)).Select(p => p.ToString()).ToList();
            Assert.True(imageProblems.Count == 0, $"{Context}: a listed image is not whole: {string.Join("; ", imageProblems)}");
        }
        var probe = Ok("create", probeImage).Stdout.Trim();
        var merged = Ok("mount", probe).Stdout.Trim();
        Assert.True(Directory.Exists(Path.Combine(merged, "etc")), $"{Context}: a new container of {probeImage} mounted without its files");
        Ok("umount", probe);
        Ok("rm", probe);
    }

    /// <summary>
    /// (c): the check names what the crash left, prune removes it, and then the check finds nothing and the disk holds
    /// only what the records name: no ingest file, no staging or unnamed snapshot directory, no blob no image needs,
    /// no container directory without its container, no empty log.
    /// </summary>
    public void AssertSweptClean()
    {
        var strayBefore = Reporting ? Stray() : []; // a walk costs three commands: only when the account is asked for
        var before = Run("system", "check");
        if (before.ExitCode != 0 || strayBefore.Count > 0)
            Found.Add($"{Context}: check said {before.Stdout.Trim().ReplaceLineEndings("; ")}; on disk: {string.Join(", ", strayBefore)}");
        Ok("prune");
        var after = Run("system", "check");
        Assert.True(after.ExitCode == 0, $"{Context}: system check after prune exited {after.ExitCode}: {after.Stdout}{after.Stderr} (before prune: {before.Stdout})");
        var stray = Stray();
        Assert.True(stray.Count == 0, $"{Context}: left on disk after check and prune: {string.Join(", ", stray)}");
        using var df = JsonDocument.Parse(Ok("df", "--format", "json").Stdout);
        Assert.True(df.RootElement.GetProperty("Leftovers").GetInt32() == 0, $"{Context}: df still counts leftovers after prune: {df.RootElement}");
    }

    /// <summary>What each kill left that the check (and, when <see cref="Reporting"/>, the walk) saw before prune.</summary>
    public List<string> Found { get; } = [];

    /// <summary>Whether to walk the store before prune too, to tell what each kill left (STRATA_CRASH_REPORT).</summary>
    public bool Reporting { get; init; }

    private static readonly HashSet<string> TopLevel = new(StringComparer.Ordinal)
    {
        "blobs", "ingest", "overlay", "containers", "image-mounts", "logs", "leases", "reserve", "store.lock", "strata.db", "strata.db-wal", "strata.db-shm",
    };

    /// <summary>Every file or directory of the store the records do not name, sorted.</summary>
    public IReadOnlyList<string> Stray()
    {
        var stray = new List<string>();
        foreach (var e in Directory.EnumerateFileSystemEntries(Root).Select(Path.GetFileName))
            if (!TopLevel.Contains(e!)) stray.Add(e!);
        stray.AddRange(Entries("ingest"));
        stray.AddRange(Entries("leases")); // a killed process's lease goes at the next collection

        var images = Images();
        var containers = Containers();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        var chains = new HashSet<string>(StringComparer.Ordinal);
        using (var inspect = JsonDocument.Parse(images.Count == 0 ? "[]" : Ok(["inspect", .. images.Select(i => i.Id)]).Stdout))
        {
            foreach (var i in inspect.RootElement.EnumerateArray())
            {
                wanted.Add(Hex(i.GetProperty("Id").GetString()!));
                wanted.Add(Hex(i.GetProperty("Digest").GetString()!));
                foreach (var l in i.GetProperty("Layers").EnumerateArray()) wanted.Add(Hex(l.GetProperty("Digest").GetString()!));
                // A layer's ChainID: its DiffID on the layers below (the OCI image spec's rule).
                string? chain = null;
                foreach (var diffId in i.GetProperty("RootFS").GetProperty("Layers").EnumerateArray().Select(d => d.GetString()!))
                    chains.Add(chain = chain is null ? diffId : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(chain + " " + diffId))));
            }
        }
        var ids = containers.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        stray.AddRange(Entries(Path.Combine("blobs", "sha256")).Where(b => !wanted.Contains(Path.GetFileName(b))));
        stray.AddRange(Directory.EnumerateFileSystemEntries(Path.Combine(Root, "blobs")).Select(Path.GetFileName).Where(n => n != "sha256").Select(n => "blobs/" + n));

        stray.AddRange(Entries("containers").Where(c => !ids.Contains(Path.GetFileName(c))));
        stray.AddRange(Entries("image-mounts").Where(m => !TempDir.MountsBelow(Path.Combine(Root, m)).Any()));
        stray.AddRange(Entries("logs").Where(l => new FileInfo(Path.Combine(Root, l)).Length == 0));

        // Snapshot records, directories and links (the one place a test looks behind the CLI): a layer of a listed image,
        // a container's writable layer or a mounted view; no unpack left in flight, nothing of an image that is gone.
        var mountedViews = Entries("image-mounts").Where(m => TempDir.MountsBelow(Path.Combine(Root, m)).Any()).Select(m => "view-" + Path.GetFileName(m)).ToHashSet(StringComparer.Ordinal);
        stray.AddRange(StoreLayout.Snapshots(Root).Where(s => s.State switch
        {
            "committed" => !chains.Contains(s.Key),
            "active" => !ids.Contains(s.Key),
            _ => !mountedViews.Contains(s.Key),
        }).Select(s => $"snapshot {s.Key} ({s.State})"));
        var named = StoreLayout.SnapshotDirs(Root);
        var links = StoreLayout.NamedLinks(Root);
        stray.AddRange(Entries("overlay").Where(d => Path.GetFileName(d) is not ("l" or "empty") && !named.Contains(Path.Combine(Root, d))));
        stray.AddRange(Entries(Path.Combine("overlay", "l")).Where(l => !links.Contains(Path.GetFileName(l))));

        return stray.Order(StringComparer.Ordinal).ToList();
    }

    private IEnumerable<string> Entries(string relative)
    {
        var dir = Path.Combine(Root, relative);
        return Directory.Exists(dir) ? Directory.EnumerateFileSystemEntries(dir).Select(e => Path.GetRelativePath(Root, e)).ToList() : [];
    }

    private static string Hex(string digest) => digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest[7..] : digest;

    /// <summary>strata overlay-mount daemons serving a directory of this store (the store's path is unique to the test).</summary>
    public IReadOnlyList<int> Daemons()
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string cmdline;
            try { cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' '); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (cmdline.Contains("overlay-mount", StringComparison.Ordinal) && cmdline.Contains(Root + "/", StringComparison.Ordinal)) found.Add(pid);
        }
        return found;
    }

    /// <summary>Waits (bounded) for the daemons of unmounted FUSE mounts to end; fails naming those that do not.</summary>
    public void AssertNoDaemons()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Daemons().Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.True(Daemons().Count == 0, $"{Context}: FUSE daemons still serve this store with nothing mounted: {string.Join(", ", Daemons())}");
    }

    /// <summary>Test teardown: every mount below the store off, and every daemon of it ended (they are this test's: the path is its own).</summary>
    public void TearDown()
    {
        foreach (var m in TempDir.MountsBelow(Root).OrderByDescending(m => m.Length))
            Tool.Run(new ToolCall("umount", ["-l", m]) { Check = false, Timeout = TimeSpan.FromSeconds(20) });
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Daemons().Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        foreach (var pid in Daemons())
        {
            try { using var p = Process.GetProcessById(pid); p.Kill(); }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
        }
    }

    /// <summary>A stable 32-bit hash of a string (string.GetHashCode differs per process), to derive a verb's seed.</summary>
    public static int StableHash(string s) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(s)), 0);
}
