using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>Indexes and Docker manifest lists: the platform's image is pulled, --platform picks another.</summary>
public class RegistryIndexTests
{
    [Theory]
    [InlineData("application/vnd.oci.image.index.v1+json")]
    [InlineData("application/vnd.docker.distribution.manifest.list.v2+json")]
    public async Task PullPicksThePlatformsImageFromAnIndex(string indexType)
    {
        await using var registry = await RegistryServer.StartAsync();
        RegistryFixture.Seed(registry, "busybox", "multi:amd64");
        RegistryFixture.Seed(registry, "kitchensink", "multi:arm64");
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        var busybox = RegistryFixture.Id(StrataCli.Run(tmp.CreateDirectory("l1"), "load", "-q", "-i", SampleImages.Get("busybox").LayoutDir));
        var kitchensink = RegistryFixture.Id(StrataCli.Run(tmp.CreateDirectory("l2"), "load", "-q", "-i", SampleImages.Get("kitchensink").LayoutDir));

        using var http = new HttpClient();
        async Task<string> Entry(string tag, string arch, string? variant)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, $"http://{registry.Host}/v2/multi/manifests/{tag}");
            req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
            using var res = await http.SendAsync(req);
            var raw = await res.Content.ReadAsByteArrayAsync();
            var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(raw));
            var v = variant is null ? "" : $",\"variant\":\"{variant}\"";
            return $"{{\"mediaType\":\"{res.Content.Headers.ContentType!.MediaType}\",\"digest\":\"{digest}\",\"size\":{raw.Length},\"platform\":{{\"architecture\":\"{arch}\",\"os\":\"linux\"{v}}}}}";
        }
        var index = $"{{\"schemaVersion\":2,\"mediaType\":\"{indexType}\",\"manifests\":[{await Entry("arm64", "arm64", "v8")},{await Entry("amd64", "amd64", null)}]}}";
        var body = new ByteArrayContent(Encoding.UTF8.GetBytes(index));
        body.Headers.ContentType = new MediaTypeHeaderValue(indexType);
        (await http.PutAsync(new Uri($"http://{registry.Host}/v2/multi/manifests/1"), body, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        var root = tmp.CreateDirectory("root");
        var reference = $"{registry.Host}/multi:1";
        Assert.Equal(busybox, RegistryFixture.Id(StrataCli.RunEnv(root, env, "pull", "-q", reference)));
        Assert.Equal(kitchensink, RegistryFixture.Id(StrataCli.RunEnv(root, env, "pull", "-q", "--platform", "linux/arm64", reference)));
        var none = StrataCli.RunEnv(root, env, "pull", "-q", "--platform", "linux/s390x", reference);
        Assert.Equal(3, none.ExitCode);
        Assert.Contains("linux/arm64/v8, linux/amd64", none.Stderr);
        Assert.Equal(2, StrataCli.RunEnv(root, env, "pull", "--platform", "linux", reference).ExitCode);

        using var inspect = JsonDocument.Parse(StrataCli.RunEnv(root, env, "inspect", "--remote", "--platform", "linux/arm64", reference).Ok().Stdout);
        var indexDigest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(index)));
        Assert.Equal(indexDigest, inspect.RootElement.GetProperty("Digest").GetString());
        Assert.Equal(index, StrataCli.RunEnv(root, env, "manifest", reference).Ok().Stdout);
        // By digest, the index pins the same images.
        Assert.Equal(busybox, RegistryFixture.Id(StrataCli.RunEnv(tmp.CreateDirectory("root2"), env, "pull", "-q", $"{registry.Host}/multi@{indexDigest}")));
    }
}
