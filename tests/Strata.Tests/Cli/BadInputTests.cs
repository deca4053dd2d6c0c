using System.Text.Json;
using System.Text.Json.Nodes;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>
/// Malformed input: a clear one-line error, a non-zero exit, and a store left exactly as it was
/// (no image named, no blob left behind).
/// </summary>
public class BadInputTests
{
    private static (string Layout, string ManifestPath, JsonDocument Manifest) CopyLayout(TempDir tmp, string image = "busybox")
    {
        var sample = SampleImages.Get(image);
        var layout = tmp.CreateDirectory("layout");
        Tool.Run("cp", "-a", sample.LayoutDir + "/.", layout);
        var digest = LoadUnpackInteropTests.ManifestDigest(layout, sample.Tag);
        var path = BlobPath(layout, digest);
        return (layout, path, JsonDocument.Parse(File.ReadAllBytes(path)));
    }

    private static string BlobPath(string layout, string digest) =>
        Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]);

    private static string LayerPath(string layout, JsonDocument manifest) =>
        BlobPath(layout, manifest.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!);

    private static void AssertRejected(string root, CliResult r, int exitCode, string messagePart)
    {
        Assert.Equal(exitCode, r.ExitCode);
        var line = r.Stderr.Trim();
        Assert.StartsWith("strata: error: ", line);
        Assert.DoesNotContain('\n', line);
        Assert.Contains(messagePart, line, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("", StrataCli.Run(root, "images", "-q").Ok().Stdout.Trim());
        var blobs = Path.Combine(root, "blobs", "sha256");
        Assert.True(!Directory.Exists(blobs) || !Directory.EnumerateFiles(blobs).Any(), "blobs left behind: " + string.Join(", ", Directory.EnumerateFiles(blobs)));
        var ingest = Path.Combine(root, "ingest");
        Assert.True(!Directory.Exists(ingest) || !Directory.EnumerateFiles(ingest).Any(), "ingest files left behind");
    }

    [Fact]
    public void TruncatedGzipLayer()
    {
        using var tmp = new TempDir();
        var (layout, _, manifest) = CopyLayout(tmp);
        var layer = LayerPath(layout, manifest);
        var bytes = File.ReadAllBytes(layer);
        File.WriteAllBytes(layer, bytes[..(bytes.Length / 2)]);
        var root = tmp.CreateDirectory("root");
        AssertRejected(root, StrataCli.Run(root, "load", "-i", layout), 5, "truncated");
    }

    [Fact]
    public void FlippedByteIsADigestMismatch()
    {
        using var tmp = new TempDir();
        var (layout, _, manifest) = CopyLayout(tmp);
        var layer = LayerPath(layout, manifest);
        var bytes = File.ReadAllBytes(layer);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(layer, bytes);
        var root = tmp.CreateDirectory("root");
        AssertRejected(root, StrataCli.Run(root, "load", "-i", layout), 5, "digest mismatch");
    }

    [Fact]
    public void ManifestNamingAMissingBlob()
    {
        using var tmp = new TempDir();
        var (layout, _, manifest) = CopyLayout(tmp);
        File.Delete(LayerPath(layout, manifest));
        var root = tmp.CreateDirectory("root");
        AssertRejected(root, StrataCli.Run(root, "load", "-i", layout), 3, "missing");
    }

    [Theory]
    [InlineData("{\"hello\": 1}", "not an image manifest")]
    [InlineData("{\"schemaVersion\": 2, \"layers\": [], ", "not valid JSON")]
    public void ManifestThatIsNotAManifest(string json, string message)
    {
        using var tmp = new TempDir();
        var (layout, manifestPath, _) = CopyLayout(tmp);
        ReplaceManifest(layout, manifestPath, System.Text.Encoding.UTF8.GetBytes(json));
        var root = tmp.CreateDirectory("root");
        AssertRejected(root, StrataCli.Run(root, "load", "-i", layout), 5, message);
    }

    [Fact]
    public void UnknownLayerMediaType()
    {
        using var tmp = new TempDir();
        var (layout, manifestPath, _) = CopyLayout(tmp);
        var text = File.ReadAllText(manifestPath).Replace("application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.example.layer.v9");
        ReplaceManifest(layout, manifestPath, System.Text.Encoding.UTF8.GetBytes(text));
        var root = tmp.CreateDirectory("root");
        AssertRejected(root, StrataCli.Run(root, "load", "-i", layout), 6, "unknown media type");
    }

    /// <summary>A tar whose second header is garbage: no tool can read past its first entry.</summary>
    private static string BrokenTar(TempDir tmp)
    {
        var tar = Path.Combine(tmp.Path, "broken.tar");
        var src = tmp.CreateDirectory("src");
        File.WriteAllText(Path.Combine(src, "a"), "a");
        File.WriteAllText(Path.Combine(src, "b"), "b");
        Tool.Run("tar", "-cf", tar, "-C", src, "a", "b");
        var bytes = File.ReadAllBytes(tar);
        for (int i = 1024; i < 1024 + 100; i++) bytes[i] = (byte)'Z'; // second header's name and checksum region
        bytes[1024 + 148] = (byte)'X';
        File.WriteAllBytes(tar, bytes);
        return tar;
    }

    [Fact]
    public void BrokenTarHeaderFailsUnpackAndLeavesNoTarget()
    {
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        // load verifies digests, not tar structure: a layout can still bring such a layer in, and unpack must refuse it cleanly.
        var layout = LayoutWithLayer(tmp, File.ReadAllBytes(BrokenTar(tmp)));
        var id = StrataCli.Run(root, "load", "-q", "-i", layout).Ok().Stdout.Trim();
        var target = Path.Combine(tmp.Path, "unpacked");
        var r = StrataCli.Run(root, "unpack", id, target);
        Assert.Equal(5, r.ExitCode);
        Assert.Contains("tar header", r.Stderr);
        Assert.False(Directory.Exists(target), "a failed unpack must leave no target behind");
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(tmp.Path), p => Path.GetFileName(p).Contains("strata-unpack"));
    }

    // import used to store any bytes as a layer that no unpack could read; now the tar is parsed on its way in.
    [Theory]
    [InlineData("text", "invalid tar header at offset 0")]
    [InlineData("short", "truncated tar archive")]
    [InlineData("broken", "invalid tar header at offset 1024")]
    [InlineData("truncated", "truncated tar archive")]
    [InlineData("gzip-text", "invalid tar header at offset 0")]
    [InlineData("xz", "xz-compressed")]
    [InlineData("bzip2", "bzip2-compressed")]
    [InlineData("lz4", "lz4-compressed")]
    [InlineData("compress", "compress (.Z)-compressed")]
    public void ImportRefusesWhatIsNotATar(string kind, string message)
    {
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        var file = Path.Combine(tmp.Path, "input");
        var broken = BrokenTar(tmp);
        var good = Path.Combine(tmp.Path, "good.tar");
        Tool.Run("tar", "-cf", good, "-C", tmp.CreateDirectory("tree"), ".");
        switch (kind)
        {
            case "text": File.WriteAllText(file, string.Concat(Enumerable.Repeat("just some notes, not an archive\n", 40))); break;
            case "short": File.WriteAllText(file, "a line\n"); break;
            case "broken": File.Copy(broken, file); break;
            case "truncated": File.WriteAllBytes(file, File.ReadAllBytes(broken)[..700]); break;
            case "gzip-text": Tool.Run("sh", "-c", $"seq 1000 | gzip -c > {file}"); break;
            case "xz": Tool.Run("sh", "-c", $"xz -c {good} > {file}"); break;
            case "bzip2": Tool.Run("sh", "-c", $"bzip2 -c {good} > {file}"); break;
            case "lz4": Tool.Run("sh", "-c", $"lz4 -q -c {good} > {file}"); break;
            // No compress(1) here: its two magic bytes and LZW flags, as ncompress writes them.
            case "compress": File.WriteAllBytes(file, [0x1f, 0x9d, 0x90, .. new byte[600]]); break;
        }
        var r = StrataCli.Run(root, "import", file, "localhost/bad:1");
        AssertRejected(root, r, 5, message);
        Assert.Contains("cannot import " + file, r.Stderr);
    }

    /// <summary>A copy of the busybox layout whose one layer is <paramref name="tar"/>, uncompressed; config, manifest and index follow.</summary>
    private static string LayoutWithLayer(TempDir tmp, byte[] tar)
    {
        var (layout, manifestPath, manifest) = CopyLayout(tmp);
        string Put(byte[] content)
        {
            var hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
            File.WriteAllBytes(Path.Combine(layout, "blobs", "sha256", hex), content);
            return "sha256:" + hex;
        }
        var layer = Put(tar);
        var configPath = BlobPath(layout, manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!);
        var config = JsonNode.Parse(File.ReadAllBytes(configPath))!;
        config["rootfs"]!["diff_ids"] = new JsonArray(layer);
        var configBytes = System.Text.Encoding.UTF8.GetBytes(config.ToJsonString());
        var m = JsonNode.Parse(File.ReadAllBytes(manifestPath))!;
        m["config"]!["digest"] = Put(configBytes);
        m["config"]!["size"] = configBytes.Length;
        m["layers"] = new JsonArray(new JsonObject
        {
            ["mediaType"] = "application/vnd.oci.image.layer.v1.tar", ["digest"] = layer, ["size"] = tar.Length,
        });
        ReplaceManifest(layout, manifestPath, System.Text.Encoding.UTF8.GetBytes(m.ToJsonString()));
        return layout;
    }

    /// <summary>Puts new manifest bytes in the layout and points index.json at them.</summary>
    private static void ReplaceManifest(string layout, string oldPath, byte[] content)
    {
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
        File.WriteAllBytes(Path.Combine(layout, "blobs", "sha256", digest), content);
        var index = File.ReadAllText(Path.Combine(layout, "index.json"))
            .Replace(Path.GetFileName(oldPath), digest)
            .Replace($"\"size\":{new FileInfo(oldPath).Length}", $"\"size\":{content.Length}");
        File.WriteAllText(Path.Combine(layout, "index.json"), index);
    }
}
