using Strata.Archive.Tar;
using Strata.Images;
using Strata.Oci;
using Strata.Storage;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Cli;

/// <summary>
/// A stack deeper than one page of mount(2) options still mounts (fsconfig "lowerdir+"), and one deeper than the
/// kernel's 500 lowers too (its bottom layers flattened into one).
/// </summary>
public class DeepStackTests
{
    [Theory]
    [InlineData(200)]
    [InlineData(520)]
    public void DeepStacksMount(int depth)
    {
        Requires.Root();
        Requires.Overlay();
        using var tmp = new TempDir();
        var root = tmp.CreateDirectory("root");
        using (var store = StrataStore.Open(root))
        {
            var builder = new ImageBuilder(store);
            var layers = new List<Descriptor>();
            var diffIds = new List<Digest>();
            for (int i = 0; i < depth; i++)
            {
                var content = System.Text.Encoding.ASCII.GetBytes($"layer {i}\n");
                TarEntry[] entries = i == depth - 1
                    ? [new TarEntry { Name = ".wh.f3" }]
                    : [new TarEntry { Name = $"f{i}", Mode = 0x1a4, Size = content.Length, Data = new MemoryStream(content) }];
                var layer = builder.WriteLayer(entries, Compression.None);
                layers.Add(layer);
                diffIds.Add(store.Images.GetLayerInfo(layer.Digest)!.Value.DiffId);
            }
            var config = new ImageConfig { Architecture = "amd64", Os = "linux", RootFs = new RootFs { DiffIds = diffIds } };
            builder.Commit(config, layers, ["localhost/deep:1"]);
        }
        StrataCli.Run(root, "create", "--name", "deep", "localhost/deep:1").Ok();
        var merged = StrataCli.Run(root, "mount", "deep").Ok().Stdout.Trim();
        try
        {
            Assert.Equal("layer 0\n", File.ReadAllText(Path.Combine(merged, "f0")));
            Assert.Equal($"layer {depth - 2}\n", File.ReadAllText(Path.Combine(merged, $"f{depth - 2}")));
            Assert.False(File.Exists(Path.Combine(merged, "f3")));
            Assert.Equal(depth - 2, Directory.GetFiles(merged).Length);
            File.WriteAllText(Path.Combine(merged, "written"), "upper works");
        }
        finally
        {
            StrataCli.Run(root, "umount", "deep").Ok();
        }
        Assert.Contains("A /written", StrataCli.Run(root, "diff", "deep").Ok().Stdout);
        StrataCli.Run(root, "rm", "deep").Ok();
        StrataCli.Run(root, "rmi", "localhost/deep:1").Ok();
        Assert.Equal(["empty", "l"], Directory.GetDirectories(Path.Combine(root, "overlay")).Select(Path.GetFileName).Order().ToArray());
    }
}
