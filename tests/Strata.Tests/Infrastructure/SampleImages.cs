using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Strata.Tests.Infrastructure;

/// <summary>
/// One sample image, built by the real peer tools, in every form Strata reads. Treat every path as read-only:
/// the cache is shared by all tests and test processes.
/// </summary>
/// <param name="LayoutDir">OCI image layout written by umoci; the manifest is tagged <paramref name="Tag"/> (org.opencontainers.image.ref.name).</param>
/// <param name="DockerArchive">skopeo's docker-archive of it, RepoTags [<paramref name="DockerReference"/>].</param>
/// <param name="OciArchive">skopeo's oci-archive (a tar of an OCI layout), tagged <paramref name="Tag"/>.</param>
/// <param name="ZstdLayoutDir">The same image with zstd-compressed layers (skopeo), tagged <paramref name="Tag"/>.</param>
/// <param name="RootfsFromUmoci">rootfs of `umoci unpack`: the expected result of unpacking every layer.</param>
public sealed record SampleImage(
    string Name, string Tag, string LayoutDir, string DockerArchive, string DockerReference,
    string OciArchive, string ZstdLayoutDir, string RootfsFromUmoci)
{
    public string OciReference => $"oci:{LayoutDir}:{Tag}";
}

/// <summary>
/// Builds the sample images once per machine into /dev/shm/strata-test-images (process-wide, lazily),
/// keyed by a version string and a hash of the builder scripts, so an edited script gets a fresh build.
/// Parallel tests and parallel test processes are safe: each build happens in a private temp dir which is
/// renamed into place when complete; a loser of that race discards its copy.
/// </summary>
public static class SampleImages
{
    public const string Version = "1";
    public const string Tag = "latest";
    public static readonly IReadOnlyList<string> Names = ["busybox", "kitchensink"];

    private static readonly ConcurrentDictionary<string, Lazy<SampleImage>> Cache = new();

    public static string CacheRoot { get; } = Directory.Exists("/dev/shm")
        ? "/dev/shm/strata-test-images"
        : Path.Combine(Path.GetTempPath(), "strata-test-images");

    private static string ScriptDir => Path.Combine(AppContext.BaseDirectory, "Infrastructure", "Images");

    /// <summary>The named image, built on first use. Skips (fails under CI=true) without root or the peer tools.</summary>
    public static SampleImage Get(string name)
    {
        if (!Names.Contains(name))
            throw new ArgumentException($"no sample image '{name}'; known: {string.Join(", ", Names)}", nameof(name));
        Requires.Root();
        foreach (var tool in new[] { "umoci", "skopeo", "setfattr", "busybox", "mknod", "chroot" })
            Requires.Tool(tool);
        // ExecutionAndPublication: concurrent tests wait for the one build instead of racing it.
        return Cache.GetOrAdd(name, n => new Lazy<SampleImage>(() => Load(n))).Value;
    }

    private static SampleImage Load(string name)
    {
        var script = Path.Combine(ScriptDir, name + ".sh");
        var key = Version + "-" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(script)))[..12];
        var final = Path.Combine(CacheRoot, $"{name}-{key}");
        if (!Directory.Exists(final))
            Build(name, script, final);
        return Describe(name, final);
    }

    private static SampleImage Describe(string name, string dir) => new(
        Name: name,
        Tag: Tag,
        LayoutDir: Path.Combine(dir, "oci"),
        DockerArchive: Path.Combine(dir, "docker-archive.tar"),
        DockerReference: $"strata-test/{name}:{Tag}",
        OciArchive: Path.Combine(dir, "oci-archive.tar"),
        ZstdLayoutDir: Path.Combine(dir, "oci-zstd"),
        RootfsFromUmoci: Path.Combine(dir, "bundle", "rootfs"));

    private static void Build(string name, string script, string final)
    {
        Directory.CreateDirectory(CacheRoot);
        var tmp = Path.Combine(CacheRoot, $".tmp-{Path.GetFileName(final)}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        try
        {
            var image = Describe(name, tmp);
            var work = Directory.CreateDirectory(Path.Combine(tmp, "work")).FullName;
            Tool.Run(new ToolCall("bash", [script, image.LayoutDir, Tag, work]) { Timeout = TimeSpan.FromMinutes(5) });
            Directory.Delete(work, recursive: true);

            var source = image.OciReference;
            Tool.Run("skopeo", "copy", "-q", source, $"docker-archive:{image.DockerArchive}:{image.DockerReference}");
            Tool.Run("skopeo", "copy", "-q", source, $"oci-archive:{image.OciArchive}:{Tag}");
            Tool.Run("skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "zstd", source, $"oci:{image.ZstdLayoutDir}:{Tag}");
            Tool.Run("umoci", "unpack", "--image", $"{image.LayoutDir}:{Tag}", Path.GetDirectoryName(image.RootfsFromUmoci)!);
            File.WriteAllText(Path.Combine(tmp, "BUILT"), new StringBuilder().Append(name).Append(' ').Append(DateTime.UtcNow.ToString("O")).AppendLine().ToString());

            try
            {
                Directory.Move(tmp, final);
            }
            catch (IOException) when (Directory.Exists(final))
            {
                // Another process finished first; its copy is as good as ours.
            }
        }
        finally
        {
            if (Directory.Exists(tmp))
                Tool.Run(new ToolCall("rm", ["-rf", tmp]) { Check = false });
        }
    }
}
