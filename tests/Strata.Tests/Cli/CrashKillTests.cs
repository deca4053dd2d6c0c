using System.Diagnostics;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>
/// kill -9 at seeded random points of every verb that changes a store. After each kill: every command works, the
/// verb happened wholly or not at all, and system check then prune leave exactly what the records name.
/// STRATA_CRASH_SEED repeats a run; STRATA_CRASH_ITERATIONS sets the kills per verb (default 2); STRATA_CRASH_REPORT names
/// a file to append what each verb's kills left behind.
/// </summary>
public sealed class CrashKillTests(CrashRegistry registry) : IClassFixture<CrashRegistry>
{
    private const string Busybox = "docker.io/strata-test/busybox:latest";
    private const string Kitchensink = "docker.io/strata-test/kitchensink:latest";

    public static TheoryData<string> Verbs =>
    [
        "load-docker-archive", "load-oci-archive", "import", "pull", "push", "commit", "create", "rm", "rmi", "tag", "untag",
        "prune", "mount", "umount", "mount-fuse", "umount-fuse", "image-mount", "image-umount", "save-docker-archive",
        "save-oci-archive", "save-oci-dir", "export",
    ];

    /// <summary>One verb under test: the command, the state it starts from, and what may be true after it was killed.</summary>
    private sealed class Scenario
    {
        public required Func<string[]> Args { get; init; }
        public Action Prepare { get; init; } = () => { };
        /// <summary>Checks whole-or-nothing (the argument: the verb finished before the kill), then undoes what it did.</summary>
        public required Action<bool> Settle { get; init; }
        public IReadOnlyDictionary<string, string>? Env { get; init; }
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task AKilledVerbLeavesAStoreWhereEverythingWorksAndNothingHalfDoneShows(string verb)
    {
        Requires.Root();
        Requires.Overlay();
        if (verb.Contains("fuse", StringComparison.Ordinal)) Requires.Fuse();
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STRATA_CRASH_SEED"), out var s) ? s : Random.Shared.Next();
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("STRATA_CRASH_ITERATIONS"), out var n) ? n : 2;
        var rng = new Random(seed ^ CrashStore.StableHash(verb));
        using var tmp = new TempDir("crash-" + verb);
        var report = Environment.GetEnvironmentVariable("STRATA_CRASH_REPORT");
        var store = new CrashStore(tmp.CreateDirectory("root"))
        {
            Context = $"{verb}, setup, seed {seed} (STRATA_CRASH_SEED={seed} repeats it)",
            Reporting = !string.IsNullOrEmpty(report),
        };
        try
        {
            store.Ok("load", "-q", "-i", SampleImages.Get("busybox").DockerArchive);
            var scenario = await ScenarioAsync(verb, store, tmp);
            // The first run goes to its end: its length is where the kills land, and it proves the verb works here.
            long length = 0;
            for (int i = 0; i <= iterations; i++)
            {
                int delay = i == 0 ? 120_000 : rng.Next(0, (int)length + 1);
                store.Context = $"{verb}, iteration {i}, " + (i == 0 ? "not killed" : $"killed after {delay} ms of {length}") + $", seed {seed} (STRATA_CRASH_SEED={seed} repeats it)";
                scenario.Prepare();
                var clock = Stopwatch.StartNew();
                bool finished = store.Kill(delay, scenario.Env, scenario.Args());
                if (i == 0)
                {
                    Assert.True(finished, $"{store.Context}: the verb did not finish");
                    length = clock.ElapsedMilliseconds;
                }
                scenario.Settle(finished);
                if (i == 0) continue; // nothing was killed
                store.AssertUsable(Busybox);
                store.AssertSweptClean();
                store.AssertNoDaemons();
            }
            // What the kills left (and check and prune then cleaned): the test's own account of what it exercised.
            var account = $"{verb}: {iterations} kills; left behind and swept: " + (store.Found.Count == 0 ? "nothing" : string.Join(" | ", store.Found));
            TestContext.Current.TestOutputHelper?.WriteLine(account);
            if (store.Reporting) File.AppendAllText(report!, account + "\n");
        }
        finally
        {
            store.TearDown();
        }
    }

    private async Task<Scenario> ScenarioAsync(string verb, CrashStore store, TempDir tmp)
    {
        var kitchensink = SampleImages.Get("kitchensink");
        var busyboxId = store.ImageNamed(Busybox)!.Id;
        switch (verb)
        {
            case "load-docker-archive":
                return AddsAnImage(store, busyboxId, () => ["load", "-q", "-i", kitchensink.DockerArchive], Kitchensink);
            case "load-oci-archive":
                return AddsAnImage(store, busyboxId, () => ["load", "-q", "-i", kitchensink.OciArchive], null);
            case "import":
                return AddsAnImage(store, busyboxId, () => ["import", kitchensink.RootfsFromUmoci, "localhost/crash/import:1"], "localhost/crash/import:1");
            case "commit":
            {
                store.Ok("create", "--name", "work", Busybox);
                var merged = store.Ok("mount", "work").Stdout.Trim();
                for (int i = 0; i < 24; i++) File.WriteAllBytes(Path.Combine(merged, $"f{i}"), Random.Shared.GetItems<byte>(new byte[256], 1 << 20));
                File.Delete(Path.Combine(merged, "etc", "group"));
                store.Ok("umount", "work");
                return AddsAnImage(store, busyboxId, () => ["commit", "work", "localhost/crash/commit:1"], "localhost/crash/commit:1");
            }
            case "pull":
            {
                var server = await registry.GetAsync();
                var reference = $"{server.Host}/crash/ks:1";
                var scenario = AddsAnImage(store, busyboxId, () => ["pull", "-q", reference], reference);
                return new Scenario { Args = scenario.Args, Prepare = scenario.Prepare, Settle = scenario.Settle, Env = RegistryFixture.Env(tmp) };
            }
            case "push":
                return await PushAsync(store, tmp, kitchensink.DockerArchive);
            case "create":
                return Create(store, kitchensink.DockerArchive);
            case "rm":
                return Removes(store, "gone", () => ["rm", "-f", "gone"], () =>
                {
                    if (store.ContainerNamed("gone") is null) store.Ok("create", "--name", "gone", Busybox);
                    store.Ok("mount", "gone"); // rm -f takes the mount off first
                });
            case "rmi":
                return Rmi(store, kitchensink.DockerArchive);
            case "tag":
            case "untag":
                return Tag(store, busyboxId, verb == "tag");
            case "prune":
                return Prune(store, kitchensink.LayoutDir);
            case "mount" or "umount" or "mount-fuse" or "umount-fuse":
                return Mount(store, verb);
            case "image-mount" or "image-umount":
                return ImageMount(store, busyboxId, verb == "image-mount");
            case "save-docker-archive" or "save-oci-archive" or "save-oci-dir" or "export":
                return WritesAFile(store, tmp, verb, kitchensink.DockerArchive);
            default:
                throw new ArgumentException($"no scenario for {verb}", nameof(verb));
        }
    }

    /// <summary>load, import, commit, pull: afterwards the store has the new image whole, named as asked, or has nothing new.</summary>
    private static Scenario AddsAnImage(CrashStore store, string keep, Func<string[]> args, string? name)
    {
        string? id = null;
        return new Scenario
        {
            Args = args,
            Prepare = () =>
            {
                foreach (var image in store.Images().Where(i => i.Id != keep)) store.Ok("rmi", "-f", image.Id);
            },
            Settle = finished =>
            {
                var added = store.Images().Where(i => i.Id != keep).ToList();
                Assert.True(added.Count <= 1, $"{store.Context}: {added.Count} new images");
                Assert.True(!finished || added.Count == 1, $"{store.Context}: the verb finished but no image is listed");
                Assert.True(store.ImageNamed(Busybox)?.Id == keep, $"{store.Context}: the image the store had is gone");
                if (added is not [var image]) return;
                if (name is not null) Assert.True(image.Names.SequenceEqual([name]), $"{store.Context}: the new image is named {string.Join(", ", image.Names)}");
                if (id is not null && !name?.StartsWith("localhost/", StringComparison.Ordinal) == true) Assert.Equal(id, image.Id);
                id ??= image.Id;
            },
        };
    }

    /// <summary>push to a new repository each time: the registry then has the whole image (it pulls back as the same image) or no manifest.</summary>
    private async Task<Scenario> PushAsync(CrashStore store, TempDir tmp, string archive)
    {
        store.Ok("load", "-q", "-i", archive); // uncompressed layers: the push gzips them into the store first
        var id = store.ImageNamed(Kitchensink)!.Id;
        var server = await registry.GetAsync();
        var env = RegistryFixture.Env(tmp);
        int round = 0;
        string Destination() => $"{server.Host}/crash/push{tmp.Path.GetHashCode(StringComparison.Ordinal) & 0xffff}-{round}:1";
        return new Scenario
        {
            Args = () => ["push", "-q", Kitchensink, Destination()],
            Env = env,
            Settle = finished =>
            {
                Assert.True(store.ImageNamed(Kitchensink)?.Id == id, $"{store.Context}: the pushed image changed in the store");
                var manifest = store.RunEnv(env, "manifest", Destination());
                Assert.True(!finished || manifest.ExitCode == 0, $"{store.Context}: push finished but the registry has no manifest: {manifest.Stderr}");
                if (manifest.ExitCode == 0)
                {
                    var back = new CrashStore(tmp.CreateDirectory($"pulled-{round}")) { Context = store.Context };
                    Assert.Equal(id, back.OkEnv(env, "pull", "-q", Destination()).Stdout.Trim().Split('\n')[^1].Replace("sha256:", "", StringComparison.Ordinal));
                }
                else
                {
                    Assert.True(manifest.ExitCode == 3, $"{store.Context}: asking for the manifest exited {manifest.ExitCode}: {manifest.Stderr}");
                }
                round++;
            },
        };
    }

    private static Scenario Create(CrashStore store, string archive) => new()
    {
        Args = () => ["create", "--name", "made", Kitchensink],
        Prepare = () =>
        {
            if (store.ContainerNamed("made") is not null) store.Ok("rm", "-f", "made");
            // A fresh image each time, so the kill can land in the unpack of its layers too.
            if (store.ImageNamed(Kitchensink) is { } old) store.Ok("rmi", "-f", old.Id);
            store.Ok("load", "-q", "-i", archive);
        },
        Settle = finished =>
        {
            var made = store.ContainerNamed("made");
            Assert.True(!finished || made is not null, $"{store.Context}: create finished but no container is listed");
            if (made is null) return;
            var merged = store.Ok("mount", "made").Stdout.Trim();
            Assert.True(File.Exists(Path.Combine(merged, "ns-mtime.txt")), $"{store.Context}: the created container mounts without its image's files");
            store.Ok("umount", "made");
        },
    };

    /// <summary>rm: the container is gone, or listed and still usable.</summary>
    private static Scenario Removes(CrashStore store, string name, Func<string[]> args, Action prepare) => new()
    {
        Args = args,
        Prepare = prepare,
        Settle = finished =>
        {
            var left = store.ContainerNamed(name);
            Assert.True(!finished || left is null, $"{store.Context}: rm finished but {name} is listed");
            if (left is null) return;
            store.Ok("export", "-o", "/dev/null", name);
            store.Ok("umount", "-f", name);
        },
    };

    private static Scenario Rmi(CrashStore store, string archive) => new()
    {
        Args = () => ["rmi", Kitchensink],
        Prepare = () =>
        {
            if (store.ImageNamed(Kitchensink) is not null) return;
            store.Ok("load", "-q", "-i", archive);
            store.Ok("create", "--name", "unpacker", Kitchensink); // its layers unpacked: the rmi has them to remove too
            store.Ok("rm", "unpacker");
        },
        Settle = finished =>
        {
            var left = store.ImageNamed(Kitchensink);
            Assert.True(!finished || left is null, $"{store.Context}: rmi finished but the image is listed");
            if (left is null) return;
            var probe = store.Ok("create", Kitchensink).Stdout.Trim();
            store.Ok("rm", probe);
        },
    };

    private static Scenario Tag(CrashStore store, string busyboxId, bool adding)
    {
        const string Name = "localhost/crash/tag:1";
        return new Scenario
        {
            Args = () => adding ? ["tag", Busybox, Name] : ["rmi", Name],
            Prepare = () =>
            {
                bool has = store.ImageNamed(Name) is not null;
                if (adding && has) store.Ok("rmi", Name);
                if (!adding && !has) store.Ok("tag", Busybox, Name);
            },
            Settle = finished =>
            {
                var images = store.Images();
                Assert.True(images.Count == 1 && images[0].Id == busyboxId && images[0].Names.Contains(Busybox),
                    $"{store.Context}: the image changed: {string.Join("; ", images)}");
                bool has = images[0].Names.Contains(Name);
                Assert.True(!finished || has == adding, $"{store.Context}: the verb finished but the name is {(has ? "there" : "gone")}");
            },
        };
    }

    /// <summary>prune among content nothing references (a layout's blobs dropped into the store) and a container's layers, which stay.</summary>
    private static Scenario Prune(CrashStore store, string layout)
    {
        store.Ok("create", "--name", "keep", Busybox);
        return new Scenario
        {
            Args = () => ["prune"],
            Prepare = () =>
            {
                foreach (var blob in Directory.EnumerateFiles(Path.Combine(layout, "blobs", "sha256")))
                    File.Copy(blob, Path.Combine(store.Root, "blobs", "sha256", Path.GetFileName(blob)), overwrite: true);
            },
            Settle = _ =>
            {
                Assert.NotNull(store.ImageNamed(Busybox));
                Assert.True(store.ContainerNamed("keep") is not null, $"{store.Context}: prune took a container");
            },
        };
    }

    private static Scenario Mount(CrashStore store, string verb)
    {
        store.Ok("create", "--name", "m", Busybox);
        string[] driver = verb.EndsWith("-fuse", StringComparison.Ordinal) ? ["--driver", "fuse"] : [];
        bool mounting = verb.StartsWith("mount", StringComparison.Ordinal);
        return new Scenario
        {
            Args = () => [.. driver, mounting ? "mount" : "umount", "m"],
            Prepare = () =>
            {
                bool mounted = store.ContainerNamed("m")!.Mounted;
                if (mounting && mounted) store.Ok([.. driver, "umount", "-f", "m"]);
                if (!mounting && !mounted) store.Ok([.. driver, "mount", "m"]);
            },
            Settle = finished =>
            {
                var m = store.ContainerNamed("m")!;
                Assert.True(!finished || m.Mounted == mounting, $"{store.Context}: the verb finished but m is {(m.Mounted ? "" : "not ")}mounted");
                if (!m.Mounted) return;
                var merged = store.Ok([.. driver, "mount", "m"]).Stdout.Trim(); // one more user: the mount serves
                Assert.True(File.Exists(Path.Combine(merged, "etc", "passwd")), $"{store.Context}: m is mounted but shows no files");
                store.Ok([.. driver, "umount", "-f", "m"]);
                Assert.False(store.ContainerNamed("m")!.Mounted, $"{store.Context}: umount -f left m mounted");
            },
        };
    }

    private static Scenario ImageMount(CrashStore store, string id, bool mounting)
    {
        var target = Path.Combine(store.Root, "image-mounts", id);
        bool Mounted() => TempDir.MountsBelow(target).Contains(target);
        return new Scenario
        {
            Args = () => [mounting ? "image" : "image", mounting ? "mount" : "umount", Busybox],
            Prepare = () =>
            {
                if (mounting && Mounted()) store.Ok("image", "umount", "-f", Busybox);
                if (!mounting && !Mounted()) store.Ok("image", "mount", Busybox);
            },
            Settle = finished =>
            {
                Assert.True(!finished || Mounted() == mounting, $"{store.Context}: the verb finished but the image is {(Mounted() ? "" : "not ")}mounted");
                if (!Mounted()) return;
                Assert.True(File.Exists(Path.Combine(target, "etc", "passwd")), $"{store.Context}: the image is mounted but shows no files");
                store.Ok("image", "umount", "-f", Busybox);
                Assert.False(Mounted(), $"{store.Context}: image umount -f left it mounted");
            },
        };
    }

    /// <summary>save and export -o: the output is there whole (the same bytes as an uninterrupted run) or not at all.</summary>
    private static Scenario WritesAFile(CrashStore store, TempDir tmp, string verb, string archive)
    {
        store.Ok("load", "-q", "-i", archive);
        if (verb == "export") store.Ok("create", "--name", "x", Kitchensink);
        var outDir = tmp.CreateDirectory("out");
        var output = Path.Combine(outDir, "out.tar");
        string[] Command(string path) => verb == "export"
            ? ["export", "-o", path, "x"]
            : ["save", "-o", path, "--format", verb["save-".Length..], Kitchensink];
        var reference = tmp.Combine("reference.tar");
        store.Ok(Command(reference));
        var expected = Contents(reference);
        return new Scenario
        {
            Args = () => Command(output),
            Prepare = () =>
            {
                if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
                File.Delete(output);
            },
            Settle = finished =>
            {
                Assert.True(!finished || Path.Exists(output), $"{store.Context}: the verb finished but wrote no {output}");
                if (Path.Exists(output))
                {
                    var got = Contents(output);
                    Assert.True(got.Count == expected.Count && got.All(f => expected.TryGetValue(f.Key, out var e) && e.AsSpan().SequenceEqual(f.Value)),
                        $"{store.Context}: {output} is visible half-written ({got.Sum(f => f.Value.Length)} of {expected.Sum(f => f.Value.Length)} bytes in {got.Count} of {expected.Count} files)");
                }
                // The next run to the same path finds what a killed one left beside it and takes it away.
                store.Ok(Command(output));
                var beside = Directory.EnumerateFileSystemEntries(outDir).Select(Path.GetFileName).Where(e => e != "out.tar").ToList();
                Assert.True(beside.Count == 0, $"{store.Context}: left beside the output: {string.Join(", ", beside)}");
            },
        };
    }

    /// <summary>A file's bytes, or a directory's files' (an OCI layout) by relative path.</summary>
    private static Dictionary<string, byte[]> Contents(string path) => Directory.Exists(path)
        ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(path, f), File.ReadAllBytes, StringComparer.Ordinal)
        : new Dictionary<string, byte[]>(StringComparer.Ordinal) { [""] = File.ReadAllBytes(path) };
}
