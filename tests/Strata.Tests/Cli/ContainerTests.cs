using System.Text.Json;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>The union seed scenarios on the kernel's overlayfs: shared layers, copy-up, whiteouts, opaque, commit.</summary>
public class ContainerTests
{
    private static (TempDir Tmp, string Root, string Image) Setup()
    {
        Requires.Root();
        Requires.Overlay();
        var sample = SampleImages.Get("busybox");
        var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "load", "-q", "-i", sample.LayoutDir).Ok().Stdout.Trim();
        StrataCli.Run(root, "tag", id, "localhost/bb:1").Ok();
        return (tmp, root, "localhost/bb:1");
    }

    private static long DiskUsage(string path) => long.Parse(Tool.Run("du", "-sk", path).Stdout.Split('\t')[0]);

    [Fact]
    public void CopyUpWhiteoutOpaqueCommitAndAFreshContainerSeesIt()
    {
        var (tmp, root, image) = Setup();
        using var _ = tmp;
        StrataCli.Run(root, "create", "--name", "c1", image).Ok();
        var layerDir = Assert.Single(StoreLayout.LayerDirs(root));
        var snapshot = tmp.Combine("layer-before");
        Tool.Run("cp", "-a", layerDir, snapshot);

        var merged = StrataCli.Run(root, "mount", "c1").Ok().Stdout.Trim();
        try
        {
            File.AppendAllText(Path.Combine(merged, "etc/group"), "extra:x:1234:\n");   // copy-up
            File.Delete(Path.Combine(merged, "etc/passwd"));                             // whiteout
            Directory.Delete(Path.Combine(merged, "bin"), recursive: true);               // rm -r then mkdir: opaque
            Directory.CreateDirectory(Path.Combine(merged, "bin"));
            File.WriteAllText(Path.Combine(merged, "bin/only"), "new");
            File.WriteAllText(Path.Combine(merged, "added"), "a");
        }
        finally
        {
            StrataCli.Run(root, "umount", "c1").Ok();
        }
        // The lower layer is untouched by the container's writes.
        Assert.Empty(TreeComparer.Compare(snapshot, layerDir));

        var diff = StrataCli.Run(root, "diff", "c1").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("D /etc/passwd", diff);
        Assert.Contains("C /etc/group", diff);
        Assert.Contains("A /added", diff);
        Assert.Contains("C /bin", diff);
        Assert.Contains("A /bin/only", diff);

        var committed = StrataCli.Run(root, "commit", "-m", "changes", "--change", "CMD [\"/bin/only\"]", "c1", "localhost/bb:2").Ok().Stdout.Trim();
        using (var inspect = JsonDocument.Parse(StrataCli.Run(root, "inspect", committed).Ok().Stdout))
        {
            var i = inspect.RootElement[0];
            Assert.Equal(2, i.GetProperty("RootFS").GetProperty("Layers").GetArrayLength());
            Assert.Equal("/bin/only", i.GetProperty("Config").GetProperty("Cmd")[0].GetString());
            var layers = i.GetProperty("Layers");
            var top = layers[1].GetProperty("Digest").GetString()!["sha256:".Length..];
            var members = Tool.Run("tar", "-tf", Path.Combine(root, "blobs", "sha256", top)).Stdout.Split('\n');
            Assert.Contains("etc/.wh.passwd", members);
            Assert.Contains("bin/.wh..wh..opq", members);
        }

        // A container of the committed image sees the change; removing c1 loses its data, the images stay.
        StrataCli.Run(root, "rm", "c1").Ok();
        StrataCli.Run(root, "create", "--name", "c2", "localhost/bb:2").Ok();
        var m2 = StrataCli.Run(root, "mount", "c2").Ok().Stdout.Trim();
        try
        {
            Assert.False(File.Exists(Path.Combine(m2, "etc/passwd")));
            Assert.Contains("extra:x:1234", File.ReadAllText(Path.Combine(m2, "etc/group")));
            Assert.Equal(["only"], Directory.GetFileSystemEntries(Path.Combine(m2, "bin")).Select(Path.GetFileName).ToArray());

            // The flattened image equals the kernel's merged view of it.
            var unpacked = tmp.Combine("unpacked");
            StrataCli.Run(root, "unpack", "localhost/bb:2", unpacked).Ok();
            var differences = TreeComparer.Compare(unpacked, m2, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
            Assert.True(differences.Count == 0, string.Join('\n', differences));
        }
        finally
        {
            StrataCli.Run(root, "umount", "c2").Ok();
        }
        Assert.Equal(2, StrataCli.Run(root, "images", "-q").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // An image in use is not removed; once its containers are gone, rmi frees its layers too.
        Assert.Equal(4, StrataCli.Run(root, "rmi", "localhost/bb:2").ExitCode);
        StrataCli.Run(root, "rm", "c2").Ok();
        StrataCli.Run(root, "rmi", "localhost/bb:2").Ok();
        StrataCli.Run(root, "rmi", image).Ok();
        Assert.Equal(["empty", "l"], Directory.GetDirectories(Path.Combine(root, "overlay")).Select(Path.GetFileName).Order().ToArray());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(root, "overlay", "l")));
    }

    [Fact]
    public void CommittedImageIsReadByUmociAndPodman()
    {
        var (tmp, root, image) = Setup();
        using var _ = tmp;
        Requires.Tool("umoci");
        Requires.Tool("podman");
        StrataCli.Run(root, "create", "--name", "c", image).Ok();
        var merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
        try
        {
            File.Delete(Path.Combine(merged, "etc/passwd"));
            Directory.Delete(Path.Combine(merged, "tmp"), recursive: true);
            Directory.CreateDirectory(Path.Combine(merged, "tmp/fresh"));
            File.WriteAllText(Path.Combine(merged, "hello"), "world");
        }
        finally
        {
            StrataCli.Run(root, "umount", "c").Ok();
        }
        var id = StrataCli.Run(root, "commit", "c", "localhost/committed:1").Ok().Stdout.Trim();
        var strataRootfs = tmp.Combine("strata-rootfs");
        StrataCli.Run(root, "unpack", id, strataRootfs).Ok();

        var layout = tmp.Combine("layout");
        StrataCli.Run(root, "save", "--format", "oci-dir", "-o", layout, "localhost/committed:1").Ok();
        var bundle = tmp.Combine("bundle");
        Tool.Run("umoci", "unpack", "--image", $"{layout}:localhost/committed:1", bundle);
        var diff = TreeComparer.Compare(Path.Combine(bundle, "rootfs"), strataRootfs, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
        Assert.True(diff.Count == 0, string.Join('\n', diff));

        var archive = tmp.Combine("committed.tar");
        StrataCli.Run(root, "save", "-o", archive, "localhost/committed:1").Ok();
        string[] podman = ["--root", tmp.Combine("p-root"), "--runroot", tmp.Combine("p-run"), "--storage-driver", "vfs"];
        Tool.Run("podman", [.. podman, "load", "-i", archive]);
        Assert.Equal(id, "sha256:" + Tool.Run("podman", [.. podman, "image", "inspect", "--format", "{{.Id}}", "localhost/committed:1"]).Stdout.Trim());
    }

    [Fact]
    public void ManyContainersCostNearlyNothingAndShareTheLayers()
    {
        var (tmp, root, image) = Setup();
        using var _ = tmp;
        StrataCli.Run(root, "create", image).Ok(); // the layer is unpacked once, here
        long before = DiskUsage(root);
        var layersBefore = StoreLayout.LayerDirs(root);
        for (int i = 0; i < 49; i++) StrataCli.Run(root, "create", image).Ok();
        long after = DiskUsage(root);
        Assert.True(after - before < 10 * 1024, $"49 more containers took {after - before} KiB");
        Assert.Equal(layersBefore, StoreLayout.LayerDirs(root));
        Assert.Equal(50, StrataCli.Run(root, "ps", "-q").Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var names = JsonDocument.Parse(StrataCli.Run(root, "ps", "--format", "json").Ok().Stdout).RootElement.EnumerateArray()
            .Select(c => c.GetProperty("Names")[0].GetString()).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public async Task ConcurrentCreatesAndAKilledOneLeaveAConsistentStore()
    {
        var (tmp, root, image) = Setup();
        using var _ = tmp;
        // A create killed while it unpacks the image's layer leaves at most a staging directory.
        var bin = Environment.GetEnvironmentVariable("STRATA_BIN");
        var psi = string.IsNullOrEmpty(bin)
            ? new System.Diagnostics.ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "strata.dll") } }
            : new System.Diagnostics.ProcessStartInfo(bin);
        foreach (var a in new[] { "--root", root, "create", "--name", "killed", image }) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        using (var p = System.Diagnostics.Process.Start(psi)!)
        {
            Thread.Sleep(60);
            try { p.Kill(); } catch (InvalidOperationException) { }
            await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        // Eight processes race to unpack the same layer and create containers: all succeed, one layer is kept.
        var creates = Enumerable.Range(0, 8).Select(i => Task.Run(() => StrataCli.Run(root, "create", "--name", $"c{i}", image))).ToList();
        foreach (var r in await Task.WhenAll(creates)) r.Ok();
        Assert.Single(StoreLayout.LayerDirs(root));
        // Every link names a snapshot: the losers of the race took theirs back (the killed create's stays with its
        // snapshot until a prune).
        var named = StoreLayout.NamedLinks(root);
        Assert.All(Directory.GetFileSystemEntries(Path.Combine(root, "overlay", "l")).Select(Path.GetFileName), l => Assert.Contains(l!, named));
        var names = StrataCli.Run(root, "ps", "--format", "json").Ok().Stdout;
        for (int i = 0; i < 8; i++) Assert.Contains($"\"c{i}\"", names);
        var merged = StrataCli.Run(root, "mount", "c7").Ok().Stdout.Trim();
        Assert.True(File.Exists(Path.Combine(merged, "bin/busybox")));
        StrataCli.Run(root, "umount", "c7").Ok();
    }

    [Fact]
    public void MountsAreCountedAndCheckedAgainstTheKernel()
    {
        var (tmp, root, image) = Setup();
        using var _ = tmp;
        StrataCli.Run(root, "create", "--name", "m", image).Ok();
        var merged = StrataCli.Run(root, "mount", "m").Ok().Stdout.Trim();
        Assert.Equal(merged, StrataCli.Run(root, "mount", "m").Ok().Stdout.Trim());
        StrataCli.Run(root, "umount", "m").Ok();
        Assert.True(File.Exists(Path.Combine(merged, "bin/busybox")), "still mounted for the second user");
        StrataCli.Run(root, "umount", "m").Ok();
        Assert.False(File.Exists(Path.Combine(merged, "bin/busybox")));

        // Unmounted behind strata's back (as a reboot does): the next mount mounts again.
        StrataCli.Run(root, "mount", "m").Ok();
        Tool.Run("umount", merged);
        StrataCli.Run(root, "mount", "m").Ok();
        Assert.True(File.Exists(Path.Combine(merged, "bin/busybox")));
        var busy = StrataCli.Run(root, "rm", "m");
        Assert.Equal(4, busy.ExitCode);
        StrataCli.Run(root, "rm", "-f", "m").Ok();
        Assert.False(Directory.Exists(Path.GetDirectoryName(merged)));
        Assert.Equal(3, StrataCli.Run(root, "mount", "nope").ExitCode);
    }

    [Fact]
    public void ImageMountIsReadOnlyAndShared()
    {
        var (tmp, root, image) = Setup();
        using var _ = tmp;
        var path = StrataCli.Run(root, "image", "mount", image).Ok().Stdout.Trim();
        try
        {
            Assert.True(File.Exists(Path.Combine(path, "bin/busybox")));
            Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(path, "x"), "no"));
        }
        finally
        {
            StrataCli.Run(root, "image", "umount", image).Ok();
        }
        Assert.False(File.Exists(Path.Combine(path, "bin/busybox")));
    }
}

/// <summary>export (the flattened merged view) and df (shared and unique sizes).</summary>
public class ContainerSpaceTests
{
    [Fact]
    public void ExportIsTheMergedViewAndDfSeparatesSharedFromUnique()
    {
        Requires.Root();
        Requires.Overlay();
        var sample = SampleImages.Get("busybox");
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "load", "-q", "-i", sample.LayoutDir).Ok().Stdout.Trim();
        StrataCli.Run(root, "tag", id, "localhost/bb:1").Ok();
        StrataCli.Run(root, "create", "--name", "c", "localhost/bb:1").Ok();
        var merged = StrataCli.Run(root, "mount", "c").Ok().Stdout.Trim();
        var snapshot = tmp.Combine("snapshot");
        try
        {
            File.WriteAllBytes(Path.Combine(merged, "blob"), new byte[300_000]);
            File.Delete(Path.Combine(merged, "etc/passwd"));
            Tool.Run("cp", "-a", merged, snapshot);
        }
        finally
        {
            StrataCli.Run(root, "umount", "c").Ok();
        }

        var tar = tmp.Combine("c.tar");
        StrataCli.Run(root, "export", "-o", tar, "c").Ok();
        var extracted = tmp.CreateDirectory("extracted");
        Tool.Run("tar", "-xpf", tar, "--xattrs", "--xattrs-include=*", "-C", extracted);
        var diff = TreeComparer.Compare(snapshot, extracted, new TreeComparer.Options { IgnoreMtimeOf = new HashSet<string> { "." } });
        Assert.True(diff.Count == 0, string.Join('\n', diff));
        Assert.False(Directory.Exists(Path.Combine(merged, "bin")), "export reads the layers, it mounts nothing");

        StrataCli.Run(root, "commit", "c", "localhost/bb:2").Ok();
        using var df = JsonDocument.Parse(StrataCli.Run(root, "df", "--format", "json").Ok().Stdout);
        var images = df.RootElement.GetProperty("Images").EnumerateArray().ToDictionary(i => i.GetProperty("RepoTags")[0].GetString()!);
        var bb1 = images["localhost/bb:1"];
        var bb2 = images["localhost/bb:2"];
        Assert.Equal(0, bb1.GetProperty("UniqueSize").GetInt64());
        Assert.Equal(bb1.GetProperty("Size").GetInt64(), bb2.GetProperty("SharedSize").GetInt64());
        Assert.True(bb2.GetProperty("UniqueSize").GetInt64() >= 300_000);
        Assert.Equal(bb2.GetProperty("Size").GetInt64(), df.RootElement.GetProperty("ImagesSize").GetInt64());
        Assert.Equal(1, bb1.GetProperty("Containers").GetInt32());
        Assert.True(df.RootElement.GetProperty("Containers")[0].GetProperty("Size").GetInt64() >= 300_000);
        Assert.Contains("SHARED SIZE", StrataCli.Run(root, "df", "-v").Ok().Stdout);
    }
}
