using System.Text.Json;
using Strata.Storage;
using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>
/// Bit rot in an unpacked layer: system check finds it against the record made at unpack, export refuses it, --repair
/// removes the layer so the next create unpacks it again from its verified blob; and a healthy store, after containers
/// wrote through the kernel's overlayfs and the FUSE union, checks clean.
/// </summary>
public class LayerCheckTests
{
    [Theory]
    [InlineData("overlay")]
    [InlineData("vfs")]
    public void AFlippedByteInAnUnpackedLayerIsFoundRefusedAndUnpackedAgain(string driver)
    {
        if (driver == "overlay")
        {
            Requires.Root();
            Requires.Overlay();
        }
        using var tmp = new TempDir("layer-check");
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "--driver", driver, "load", "-q", "-i", SampleImages.Get("busybox").LayoutDir).Ok().Stdout.Trim();
        StrataCli.Run(root, "create", "--name", "user", id).Ok();
        var layer = Assert.Single(StoreLayout.LayerDirs(root));
        var file = new DirectoryInfo(Path.Combine(layer, "diff")).EnumerateFiles("*", SearchOption.AllDirectories).Where(f => f.LinkTarget is null).MaxBy(f => f.Length)!;
        var original = File.ReadAllBytes(file.FullName);
        var path = "/" + Path.GetRelativePath(Path.Combine(layer, "diff"), file.FullName);
        FlipByte(tmp, file.FullName, original.Length / 2);

        // --quick does not hash layers; the full check does, and names the layer and the first file that differs.
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check", "--quick").Ok().Stdout.Trim());
        var check = StrataCli.Run(root, "system", "check");
        Assert.Equal(1, check.ExitCode);
        var line = Assert.Single(check.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches($"^layer sha256:[0-9a-f]{{64}}: its files do not match what was unpacked \\(first at {path}\\)$", line);

        if (driver == "vfs")
        {
            // A vfs container starts as a copy of the layer: the copy refuses the damaged file rather than copy it.
            var copy = StrataCli.Run(root, "create", "--name", "copy", id);
            Assert.True(copy.ExitCode == 5, $"create: exit {copy.ExitCode}: {copy.Stderr}");
            Assert.Contains($"{path} does not match what was unpacked", copy.Stderr);
        }
        else
        {
            // Export reads the layer: it refuses the damaged file, with no archive left (a vfs container has its own copy).
            var export = StrataCli.Run(root, "export", "-o", tmp.Combine("c.tar"), "user");
            Assert.True(export.ExitCode == 5, $"export: exit {export.ExitCode}: {export.Stderr}");
            Assert.Contains($"{path} does not match what was unpacked", export.Stderr);
            Assert.Single(export.Stderr.Trim().Split('\n'));
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(tmp.Path), p => p.Contains("c.tar", StringComparison.Ordinal));
        }

        // The container keeps the layer: repair says so and removes nothing; without it, the layer goes.
        var blocked = StrataCli.Run(root, "system", "check", "--repair");
        Assert.Equal(1, blocked.ExitCode);
        Assert.Contains("; in use by container user: remove them to repair it", blocked.Stdout);
        Assert.True(Directory.Exists(layer));
        StrataCli.Run(root, "rm", "user").Ok();
        var repaired = StrataCli.Run(root, "system", "check", "--repair", "--format", "json");
        var problem = Assert.Single(JsonDocument.Parse(repaired.Stdout).RootElement.GetProperty("Problems").EnumerateArray());
        Assert.True(problem.GetProperty("Repaired").GetBoolean());
        Assert.False(Directory.Exists(layer));
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());

        // The next create unpacks it again from the blob: the file is as it was, the store checks clean.
        StrataCli.Run(root, "create", "--name", "again", id).Ok();
        var merged = StrataCli.Run(root, "mount", "again").Ok().Stdout.Trim();
        Assert.Equal(original, File.ReadAllBytes(merged + path));
        StrataCli.Run(root, "umount", "again").Ok();
        StrataCli.Run(root, "export", "-o", tmp.Combine("again.tar"), "again").Ok();
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());
    }

    [Fact]
    public void RepairTakesADamagedBaseLayerWithTheLayersOnItUnlessAnImageMountUsesThem()
    {
        Requires.Root();
        Requires.Overlay();
        using var tmp = new TempDir("layer-check-stack");
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "--driver", "overlay", "load", "-q", "-i", SampleImages.Get("kitchensink").LayoutDir).Ok().Stdout.Trim();
        var view = StrataCli.Run(root, "image", "mount", id).Ok().Stdout.Trim();
        var expected = File.ReadAllBytes(Path.Combine(view, "files", "random-1m"));
        Assert.True(StoreLayout.LayerDirs(root).Count > 1);
        // The base layer: the one whose tree holds files/random-1m.
        var baseLayer = Assert.Single(StoreLayout.LayerDirs(root), d => File.Exists(Path.Combine(d, "diff", "files", "random-1m")));
        FlipByte(tmp, Path.Combine(baseLayer, "diff", "files", "random-1m"), 4096);

        var blocked = StrataCli.Run(root, "system", "check", "--repair");
        Assert.Equal(1, blocked.ExitCode);
        Assert.Contains("(first at /files/random-1m); in use by a mount of image", blocked.Stdout);
        StrataCli.Run(root, "image", "umount", id).Ok();
        StrataCli.Run(root, "system", "check", "--repair").Ok();
        Assert.Empty(StoreLayout.LayerDirs(root)); // the layers on it went with it
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());

        view = StrataCli.Run(root, "image", "mount", id).Ok().Stdout.Trim();
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(view, "files", "random-1m")));
        StrataCli.Run(root, "image", "umount", id).Ok();
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());
    }

    [Fact]
    public void ALayerFromBeforeRecordsIsRecordedByTheFirstFullCheckAndADamagedRecordIsWrittenAgain()
    {
        using var tmp = new TempDir("layer-check-legacy");
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "--driver", "vfs", "load", "-q", "-i", SampleImages.Get("busybox").LayoutDir).Ok().Stdout.Trim();
        StrataCli.Run(root, "create", "--name", "c", id).Ok();
        var layer = Assert.Single(StoreLayout.LayerDirs(root));
        using (var store = StrataStore.Open(root)) store.Db.Execute("UPDATE snapshots SET tree = NULL", null);
        File.Delete(Path.Combine(layer, "tree.idx"));

        // Nothing to hold it to: the first full check records it as found and reports nothing.
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());
        using (var store = StrataStore.Open(root)) Assert.NotNull(Assert.Single(store.Snapshots.List(), s => s.State == SnapshotState.Committed).Tree);
        Assert.True(File.Exists(Path.Combine(layer, "tree.idx")));

        // A damaged record with intact files: reported, and written again by --repair.
        File.WriteAllText(Path.Combine(layer, "tree.idx"), "rot");
        var check = StrataCli.Run(root, "system", "check");
        Assert.Equal(1, check.ExitCode);
        Assert.EndsWith(": its record of what was unpacked is damaged (its files are intact)", check.Stdout.Trim());
        StrataCli.Run(root, "system", "check", "--repair").Ok();
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());
    }

    [Fact]
    public void AHealthyStoreChecksCleanAfterKernelAndFuseContainersWroteCopiedUpAndCommitted()
    {
        Requires.Root();
        Requires.Overlay();
        Requires.Fuse();
        using var tmp = new TempDir("layer-check-healthy");
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "--driver", "overlay", "load", "-q", "-i", SampleImages.Get("busybox").LayoutDir).Ok().Stdout.Trim();
        foreach (var driver in new[] { "overlay", "fuse" })
        {
            var name = "w-" + driver;
            StrataCli.Run(root, "--driver", driver, "create", "--name", name, id).Ok();
            var merged = StrataCli.Run(root, "--driver", driver, "mount", name).Ok().Stdout.Trim();
            File.WriteAllText(Path.Combine(merged, "new-file"), driver);                 // a new file
            File.AppendAllText(Path.Combine(merged, "etc", "passwd"), "x:1:1::/:/bin/sh\n"); // copy-up of a lower file
            Tool.Run("chmod", "0600", Path.Combine(merged, "etc", "group"));             // a metadata-only copy-up
            Tool.Run("chown", "7:7", Path.Combine(merged, "etc"));                        // a lower directory's owner
            File.SetLastWriteTimeUtc(Path.Combine(merged, "bin"), DateTime.UnixEpoch);    // and its mtime
            File.Delete(Path.Combine(merged, "bin", "sh"));                               // a whiteout over a lower link
            Directory.Delete(Path.Combine(merged, "root"), recursive: true);              // and over a lower directory
            Directory.CreateDirectory(Path.Combine(merged, "var", "made", "deep"));
            Tool.Run("mv", Path.Combine(merged, "usr", "sbin"), Path.Combine(merged, "usr", "sbin2")); // a renamed lower directory
            _ = File.ReadAllBytes(Path.Combine(merged, "bin", "busybox"));               // reads touch only atime
            StrataCli.Run(root, "--driver", driver, "umount", name).Ok();
            StrataCli.Run(root, "--driver", driver, "commit", "-q", name, $"localhost/committed-{driver}:1").Ok();
            // The committed image's new layer is unpacked and used in turn.
            StrataCli.Run(root, "--driver", driver, "create", "--name", "on-" + driver, $"localhost/committed-{driver}:1").Ok();
            var view = StrataCli.Run(root, "--driver", driver, "image", "mount", $"localhost/committed-{driver}:1").Ok().Stdout.Trim();
            Assert.Equal(driver, File.ReadAllText(Path.Combine(view, "new-file")));
            StrataCli.Run(root, "--driver", driver, "image", "umount", $"localhost/committed-{driver}:1").Ok();
            StrataCli.Run(root, "--driver", driver, "export", "-o", tmp.Combine(name + ".tar"), "on-" + driver).Ok();
        }
        // Every kind of object a layer holds (xattrs, capabilities, devices, hard links, sparse files, opaque
        // directories, whiteouts across layers), each file copied up and written through both unions.
        var sink = StrataCli.Run(root, "load", "-q", "-i", SampleImages.Get("kitchensink").LayoutDir).Ok().Stdout.Trim();
        foreach (var driver in new[] { "overlay", "fuse" })
        {
            StrataCli.Run(root, "--driver", driver, "create", "--name", "k-" + driver, sink).Ok();
            var merged = StrataCli.Run(root, "--driver", driver, "mount", "k-" + driver).Ok().Stdout.Trim();
            Tool.Run("bash", "-c", "find \"$1\" -type f -exec sh -c 'cat \"$1\" >/dev/null; echo x >> \"$1\"' _ {} \\;", "append", merged);
            StrataCli.Run(root, "--driver", driver, "umount", "k-" + driver).Ok();
            StrataCli.Run(root, "--driver", driver, "export", "-o", tmp.Combine($"k-{driver}.tar"), "k-" + driver).Ok();
            StrataCli.Run(root, "--driver", driver, "commit", "-q", "k-" + driver, $"localhost/sink-{driver}:1").Ok();
            StrataCli.Run(root, "--driver", driver, "create", "--name", "k2-" + driver, $"localhost/sink-{driver}:1").Ok();
            StrataCli.Run(root, "--driver", driver, "export", "-o", tmp.Combine($"k2-{driver}.tar"), "k2-" + driver).Ok();
        }
        var check = StrataCli.Run(root, "system", "check");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Equal("no problems found", check.Stdout.Trim());
    }

    [Fact]
    public async Task APullOverADamagedBlobFetchesItAgain()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var tmp = new TempDir("layer-check-pull");
        var env = RegistryFixture.Env(tmp);
        RegistryFixture.Seed(registry, "busybox", "check/busybox:1");
        var root = tmp.CreateDirectory("root");
        var reference = $"{registry.Host}/check/busybox:1";
        StrataCli.RunEnv(root, env, "--driver", "vfs", "pull", "-q", reference).Ok();
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());

        // Every blob the image has damaged: the layer, its config and its manifest.
        var blobs = new DirectoryInfo(Path.Combine(root, "blobs", "sha256")).GetFiles();
        foreach (var blob in blobs) FlipByte(tmp, blob.FullName, (int)(blob.Length / 2));
        var check = StrataCli.Run(root, "system", "check");
        Assert.Equal(1, check.ExitCode);
        Assert.Equal(blobs.Length, check.Stdout.Split('\n').Count(l => l.EndsWith("its content does not match its digest", StringComparison.Ordinal)));

        var pulled = StrataCli.RunEnv(root, env, "pull", reference).Ok();
        Assert.Contains("Damaged in the store: downloading it again", pulled.Stderr);
        Assert.Equal("no problems found", StrataCli.Run(root, "system", "check").Ok().Stdout.Trim());
        // And a pull of a whole store moves nothing again.
        Assert.Contains("Already exists", StrataCli.RunEnv(root, env, "pull", reference).Ok().Stderr);
    }

    /// <summary>Bit rot as the disk makes it: one byte changed in place, the file's times kept.</summary>
    private static void FlipByte(TempDir tmp, string path, int offset)
    {
        var times = tmp.Combine("times-" + Path.GetFileName(path));
        File.WriteAllText(times, "");
        Tool.Run("touch", "-h", "-r", path, times);
        using (var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = offset;
            int b = f.ReadByte();
            f.Position = offset;
            f.WriteByte((byte)(b ^ 0x10));
        }
        Tool.Run("touch", "-h", "-r", times, path);
    }
}
