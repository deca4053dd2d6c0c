using Strata.Archive;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Strata.Fuse;
using Strata.Native;
using Strata.Tests.Infrastructure;
using Strata.Tests.Union;

namespace Strata.Tests.Fuse;

/// <summary>
/// Several writers at once on one FUSE union mount, with readers walking it meanwhile: all copy up the same lower
/// file together, append to one log, create, overwrite, truncate, rename and delete in a shared lower directory and
/// in their own directories, rename lower directories, mkdir and rmdir. Each writer keeps a model of what it did;
/// the end state must be exactly the models' union, nothing may fail that the models say should succeed, and the
/// upper layer left behind must read the same through the kernel's overlayfs. A hang fails (the connection is
/// aborted) instead of blocking the suite. Through the kernel's passthrough and through the daemon.
/// </summary>
public class FuseStressTests
{
    private const int Writers = 6, OpsPerWriter = 300, SharedLowerFiles = 60, BlockSize = 64 * 1024;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ConcurrentWritersAndReadersAgreeWithTheModel(bool passthrough)
    {
        Requires.Root();
        Requires.Fuse();
        Requires.Overlay();
        using var tmp = new TempDir();
        var lower = tmp.CreateDirectory("lower");
        var bigOriginal = new byte[Writers * 2 * BlockSize];
        new Random(42).NextBytes(bigOriginal);
        File.WriteAllBytes(Path.Combine(lower, "big"), bigOriginal);
        Directory.CreateDirectory(Path.Combine(lower, "shared"));
        for (int j = 0; j < SharedLowerFiles; j++) File.WriteAllText(Path.Combine(lower, "shared", $"f{j}"), $"lower {j}\n");
        for (int j = 0; j < Writers * 2; j++)
        {
            Directory.CreateDirectory(Path.Combine(lower, "dirs", $"d{j}", "inner"));
            File.WriteAllText(Path.Combine(lower, "dirs", $"d{j}", "inner", "x"), $"dir {j}\n");
        }
        string upper = tmp.CreateDirectory("upper"), work = tmp.CreateDirectory("work"), merged = tmp.CreateDirectory("merged");

        var errors = new ConcurrentQueue<string>();
        var models = new Dictionary<string, byte[]?>[Writers]; // path -> content; null for a directory
        List<string> fuseListing;
        using (var session = FuseSession.Mount(new UnionFileSystem(upper, work, [lower]), merged, "strata-stress", passthrough: passthrough))
        {
            Assert.True(Libc.TryLstatAt(Libc.AT_FDCWD, merged, out var mountStat));
            var start = new Barrier(Writers);
            using var done = new CancellationTokenSource();
            var writers = Enumerable.Range(0, Writers).Select(t => new Thread(() => models[t] = Write(t, merged, start, errors)) { IsBackground = true }).ToList();
            var readers = Enumerable.Range(0, 2).Select(_ => new Thread(() => Read(merged, bigOriginal, errors, done.Token)) { IsBackground = true }).ToList();
            foreach (var thread in writers.Concat(readers)) thread.Start();
            var deadline = DateTime.UtcNow + Limit;
            bool finished = writers.All(w => w.Join(Max(deadline - DateTime.UtcNow)));
            done.Cancel();
            finished = readers.All(r => r.Join(Max(deadline - DateTime.UtcNow))) && finished;
            if (!finished)
            {
                // A deadlock in the daemon: abort the connection so the blocked threads return, then fail.
                File.WriteAllText($"/sys/fs/fuse/connections/{(mountStat.DevMajor << 20) | mountStat.DevMinor}/abort", "1");
                Assert.Fail($"the writers and readers did not finish within {Limit.TotalSeconds} s: a hang");
            }
            Assert.True(errors.IsEmpty, $"{errors.Count} unexpected results:\n  {string.Join("\n  ", errors.Take(20))}");

            // The end state is exactly what the writers did.
            var expected = Expected(models, bigOriginal);
            var actual = Tree(merged);
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
            foreach (var (path, content) in expected)
                Assert.True(content is null ? actual[path] is null : actual[path] is { } a && a.AsSpan().SequenceEqual(content), $"{path} differs from the model");
            var log = File.ReadAllLines(Path.Combine(merged, "log")).Order(StringComparer.Ordinal);
            var lines = Enumerable.Range(0, Writers).SelectMany(t => Enumerable.Range(0, OpsPerWriter / 10).Select(i => $"writer {t} line {i}"));
            Assert.Equal(lines.Order(StringComparer.Ordinal), log); // appends interleave whole, none lost or torn
            fuseListing = UnionViewDifferentialTests.Kernel(merged);
        }

        // The kernel's overlayfs reads the upper layer the FUSE union left the same way.
        string kWork = tmp.CreateDirectory("k-work"), kMerged = tmp.CreateDirectory("k-merged");
        Tool.Run("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={lower},upperdir={upper},workdir={kWork},index=off", kMerged);
        try
        {
            var kernelListing = UnionViewDifferentialTests.Kernel(kMerged);
            Assert.True(fuseListing.SequenceEqual(kernelListing),
                $"FUSE only:\n  {string.Join("\n  ", fuseListing.Except(kernelListing).Take(10))}\nkernel only:\n  {string.Join("\n  ", kernelListing.Except(fuseListing).Take(10))}");
        }
        finally
        {
            Tool.Run("umount", kMerged);
        }
        Assert.Equal(bigOriginal, File.ReadAllBytes(Path.Combine(lower, "big"))); // the lower layer never changes
    }

    private static unsafe void Append(int fd, string line)
    {
        var bytes = Encoding.ASCII.GetBytes(line);
        fixed (byte* p = bytes)
            if (Libc.Write(fd, p, (nuint)bytes.Length) != bytes.Length) throw new IOException($"append: errno {Libc.LastErrno}");
    }

    private static TimeSpan Max(TimeSpan left) => left > TimeSpan.Zero ? left : TimeSpan.Zero;

    /// <summary>One writer's run; returns its model of the paths it owns.</summary>
    private static Dictionary<string, byte[]?> Write(int t, string merged, Barrier start, ConcurrentQueue<string> errors)
    {
        var rnd = new Random(1000 + t);
        var model = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        string M(string rel) => Path.Combine(merged, rel);
        void Fail(string what) => errors.Enqueue($"writer {t}: {what}");
        try
        {
            start.SignalAndWait();
            // Everyone copies up the same lower file at once, each writing its own blocks.
            using (var big = File.OpenHandle(M("big"), FileMode.Open, FileAccess.ReadWrite))
                RandomAccess.Write(big, Enumerable.Repeat((byte)(t + 1), BlockSize).ToArray(), (2 * t + 1) * (long)BlockSize);

            var own = $"t{t}";
            Directory.CreateDirectory(M(own));
            model[own] = null;
            var sharedLower = Enumerable.Range(0, SharedLowerFiles).Where(j => j % Writers == t).ToList();
            var lowerDirs = new List<int> { t, t + Writers };
            var sharedMine = new List<string>();
            // O_APPEND (FileMode.Append only seeks to the end once): every write lands at the end, whole.
            int logFd = Libc.OpenAt(Libc.AT_FDCWD, M("log"), Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC, 0x1a4);
            Libc.Check(logFd, "open", "log");
            using var logHandle = new SafeFileHandle(logFd, ownsHandle: true);
            int logged = 0;
            for (int i = 0; i < OpsPerWriter; i++)
            {
                if (i % 10 == 0) Append(logFd, $"writer {t} line {logged++}\n");
                string sub = rnd.Next(3) == 0 ? $"{own}/sub{rnd.Next(3)}" : own;
                string file = $"{sub}/n{rnd.Next(12)}";
                switch (rnd.Next(12))
                {
                    case 0 or 1: // create or replace
                        if (!model.ContainsKey(sub)) { Directory.CreateDirectory(M(sub)); model[sub] = null; }
                        if (model.TryGetValue(file, out var existing) && existing is null) break;
                        var data = new byte[rnd.Next(0, 40_000)];
                        rnd.NextBytes(data);
                        File.WriteAllBytes(M(file), data);
                        model[file] = data;
                        break;
                    case 2: // overwrite part, maybe past the end
                        if (!model.TryGetValue(file, out var content) || content is null) break;
                        var patch = new byte[rnd.Next(1, 9000)];
                        rnd.NextBytes(patch);
                        int at = rnd.Next(0, content.Length + 100);
                        using (var h = File.OpenHandle(M(file), FileMode.Open, FileAccess.Write)) RandomAccess.Write(h, patch, at);
                        var grown = new byte[Math.Max(content.Length, at + patch.Length)];
                        content.CopyTo(grown, 0);
                        patch.CopyTo(grown, at);
                        model[file] = grown;
                        break;
                    case 3: // truncate
                        if (!model.TryGetValue(file, out content) || content is null) break;
                        int size = rnd.Next(0, content.Length + 5000);
                        using (var h = File.OpenHandle(M(file), FileMode.Open, FileAccess.Write)) RandomAccess.SetLength(h, size);
                        var cut = new byte[size];
                        content.AsSpan(0, Math.Min(size, content.Length)).CopyTo(cut);
                        model[file] = cut;
                        break;
                    case 4: // rename within its own tree, replacing
                        var to = $"{own}/n{rnd.Next(12)}";
                        if (!model.TryGetValue(file, out content) || content is null || file == to || model.TryGetValue(to, out var target) && target is null) break;
                        File.Move(M(file), M(to), overwrite: true);
                        model.Remove(file);
                        model[to] = content;
                        break;
                    case 5: // unlink
                        if (!model.TryGetValue(file, out content) || content is null) break;
                        File.Delete(M(file));
                        model.Remove(file);
                        break;
                    case 6: // rmdir an empty subdirectory, or make it
                        if (sub == own) break;
                        if (!model.ContainsKey(sub)) { Directory.CreateDirectory(M(sub)); model[sub] = null; }
                        else if (!model.Keys.Any(k => k.StartsWith(sub + "/", StringComparison.Ordinal))) { Directory.Delete(M(sub)); model.Remove(sub); }
                        break;
                    case 7: // read back and check
                        if (!model.TryGetValue(file, out content) || content is null) break;
                        if (!File.ReadAllBytes(M(file)).AsSpan().SequenceEqual(content)) Fail($"{file} reads back different from what was written");
                        break;
                    case 8: // a new name in the shared lower directory, or drop one made earlier
                        if (sharedMine.Count > 0 && rnd.Next(2) == 0)
                        {
                            var name = sharedMine[rnd.Next(sharedMine.Count)];
                            File.Delete(M(name));
                            sharedMine.Remove(name);
                            model.Remove(name);
                        }
                        else
                        {
                            var name = $"shared/t{t}-{i}";
                            File.WriteAllText(M(name), name);
                            sharedMine.Add(name);
                            model[name] = Encoding.UTF8.GetBytes(name);
                        }
                        break;
                    case 9: // delete a lower file of the shared directory (a whiteout), or rename it
                        if (sharedLower.Count == 0) break;
                        int j = sharedLower[0];
                        sharedLower.RemoveAt(0);
                        if (rnd.Next(2) == 0) File.Delete(M($"shared/f{j}"));
                        else
                        {
                            File.Move(M($"shared/f{j}"), M($"shared/moved-{j}"));
                            model[$"shared/moved-{j}"] = Encoding.UTF8.GetBytes($"lower {j}\n");
                        }
                        break;
                    case 10: // rename a lower directory
                        if (lowerDirs.Count == 0) break;
                        int d = lowerDirs[0];
                        lowerDirs.RemoveAt(0);
                        Directory.Move(M($"dirs/d{d}"), M($"dirs/m{d}"));
                        model[$"dirs/m{d}"] = null;
                        model[$"dirs/m{d}/inner"] = null;
                        model[$"dirs/m{d}/inner/x"] = Encoding.UTF8.GetBytes($"dir {d}\n");
                        break;
                    default: // list its own directory: exactly the model's names
                        var listed = Directory.EnumerateFileSystemEntries(M(own)).Select(p => $"{own}/{Path.GetFileName(p)}").Order(StringComparer.Ordinal).ToList();
                        var known = model.Keys.Where(k => k.StartsWith(own + "/", StringComparison.Ordinal) && !k[(own.Length + 1)..].Contains('/')).Order(StringComparer.Ordinal).ToList();
                        if (!listed.SequenceEqual(known)) Fail($"{own} lists [{string.Join(' ', listed)}], the model has [{string.Join(' ', known)}]");
                        break;
                }
            }
            while (logged < OpsPerWriter / 10) Append(logFd, $"writer {t} line {logged++}\n");
            foreach (var j in sharedLower) model[$"shared/f{j}"] = Encoding.UTF8.GetBytes($"lower {j}\n");
            foreach (var d in lowerDirs)
            {
                model[$"dirs/d{d}"] = null;
                model[$"dirs/d{d}/inner"] = null;
                model[$"dirs/d{d}/inner/x"] = Encoding.UTF8.GetBytes($"dir {d}\n");
            }
        }
        catch (Exception e)
        {
            Fail(e.ToString());
        }
        return model;
    }

    /// <summary>Walks and reads while the writers work: names may vanish under it, but nothing else may fail.</summary>
    private static void Read(string merged, byte[] bigOriginal, ConcurrentQueue<string> errors, CancellationToken done)
    {
        while (!done.IsCancellationRequested)
        {
            try
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(merged, "*", SearchOption.AllDirectories))
                {
                    try
                    {
                        if (File.Exists(entry)) File.ReadAllBytes(entry);
                    }
                    // Gone, or cut shorter than its size said while it was read (a writer truncating it).
                    catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or EndOfStreamException) { }
                }
                // Every byte of the shared file is the lower's or its block's writer's: a copy-up in flight never
                // shows (reads are not atomic against writes, so a block may be half written).
                var big = File.ReadAllBytes(Path.Combine(merged, "big"));
                if (big.Length != bigOriginal.Length) errors.Enqueue($"reader: big has {big.Length} bytes, not {bigOriginal.Length}");
                for (int i = 0; i < Math.Min(big.Length, bigOriginal.Length); i++)
                {
                    int b = i / BlockSize;
                    if (big[i] != bigOriginal[i] && (b % 2 == 0 || big[i] != (b - 1) / 2 + 1))
                    {
                        errors.Enqueue($"reader: byte {i} of big is {big[i]}: neither the lower's nor its writer's");
                        break;
                    }
                }
            }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException) { }
            catch (Exception e)
            {
                errors.Enqueue($"reader: {e}");
                return;
            }
        }
    }

    private static Dictionary<string, byte[]?> Expected(Dictionary<string, byte[]?>[] models, byte[] bigOriginal)
    {
        var expected = new Dictionary<string, byte[]?>(StringComparer.Ordinal) { ["shared"] = null, ["dirs"] = null };
        var big = bigOriginal.ToArray();
        for (int t = 0; t < Writers; t++) Array.Fill(big, (byte)(t + 1), (2 * t + 1) * BlockSize, BlockSize);
        expected["big"] = big;
        foreach (var model in models)
            foreach (var (path, content) in model) expected[path] = content;
        return expected;
    }

    /// <summary>Every path under the mount (but the log) with its content; null for a directory.</summary>
    private static Dictionary<string, byte[]?> Tree(string merged)
    {
        var tree = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(merged, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(merged, entry);
            if (rel == "log") continue;
            tree[rel] = Directory.Exists(entry) ? null : File.ReadAllBytes(entry);
        }
        return tree;
    }
}
