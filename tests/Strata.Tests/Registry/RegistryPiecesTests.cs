using System.Net.Http.Headers;
using Strata.Errors;
using Strata.Oci;
using Strata.Registry;

namespace Strata.Tests.Registry;

public class RegistryPiecesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "strata-auth-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void BearerChallengeKeepsCommasInsideQuotesAndHostPortsInScopes()
    {
        var c = AuthChallenge.Parse(new AuthenticationHeaderValue("Bearer",
            "realm=\"https://auth.example:8443/token\",service=\"registry.example\",scope=\"repository:example:5000/team/app:pull,push\""))!;
        Assert.True(c.IsBearer);
        Assert.Equal("https://auth.example:8443/token", c.Realm);
        Assert.Equal("registry.example", c.Service);
        Assert.Equal("repository:example:5000/team/app:pull,push", c.Scope);
        var basic = AuthChallenge.Parse(new AuthenticationHeaderValue("Basic", "realm=basic-realm"))!;
        Assert.True(basic.IsBasic);
        Assert.Equal("basic-realm", basic.Realm);
    }

    [Fact]
    public void AuthFileStoresFindsAndRemovesAndAcceptsDockerStyleKeys()
    {
        var path = AuthFiles.Single(Path.Combine(_dir, "auth.json"));
        Directory.CreateDirectory(_dir);
        File.WriteAllText(path.Write, """{"auths":{"https://index.docker.io/v1/":{"auth":"ZG9jazpodWI="}},"credHelpers":{"x":"y"}}""");
        Assert.Equal(new RegistryCredentials("dock", "hub"), AuthFile.Find("docker.io", path));
        AuthFile.Store("127.0.0.1:5000", new RegistryCredentials("u", "p:with:colons"), path);
        Assert.Equal(new RegistryCredentials("u", "p:with:colons"), AuthFile.Find("127.0.0.1:5000", path));
        Assert.Contains("credHelpers", File.ReadAllText(path.Write)); // what strata does not use is kept
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path.Write));
        Assert.True(AuthFile.Remove("127.0.0.1:5000", path));
        Assert.False(AuthFile.Remove("127.0.0.1:5000", path));
        Assert.Null(AuthFile.Find("127.0.0.1:5000", path));
        Assert.NotNull(AuthFile.Find("docker.io", path));
    }

    [Fact]
    public void BadAuthFileIsAClearError()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "auth.json");
        File.WriteAllText(path, "{not json");
        var e = Assert.Throws<StrataException>(() => AuthFile.Find("x", AuthFiles.Single(path)));
        Assert.Contains("invalid JSON", e.Message);
    }

    [Fact]
    public void PodmanAuthFilesFollowTheEnvironmentGivenNotTheProcesses()
    {
        var env = new Dictionary<string, string?> { ["XDG_RUNTIME_DIR"] = "/run/user/7", ["DOCKER_CONFIG"] = "/d", ["REGISTRY_AUTH_FILE"] = "" };
        var files = AuthFiles.Podman(n => env.GetValueOrDefault(n), "/home/u");
        Assert.Equal(["/run/user/7/containers/auth.json", "/home/u/.config/containers/auth.json", "/d/config.json"], files.Read);
        Assert.Equal("/run/user/7/containers/auth.json", files.Write);
        env["REGISTRY_AUTH_FILE"] = "/a.json";
        Assert.Equal("/a.json", AuthFiles.Podman(n => env.GetValueOrDefault(n), "/home/u").Write);
        Assert.Equal("docker.io", RegistryHost.Normalize("https://index.docker.io/v1/"));
        Assert.Equal("127.0.0.1:5000", RegistryHost.Normalize("http://127.0.0.1:5000/v2/"));
    }

    [Fact]
    public void PlatformSelectionMatchesOsArchAndVariant()
    {
        static Descriptor M(string os, string arch, string? variant, char c) => new()
        {
            MediaType = MediaTypes.OciManifest,
            Digest = Digest.Parse("sha256:" + new string(c, 64)),
            Size = 1,
            Platform = new Platform { Os = os, Architecture = arch, Variant = variant },
        };
        var index = new ImageIndex
        {
            Manifests = [M("unknown", "unknown", null, 'f'), M("linux", "arm", "v6", 'a'), M("linux", "arm", "v7", 'b'), M("linux", "arm64", "v8", 'c'), M("linux", "amd64", null, 'd')],
        };
        var d = Digest.Parse("sha256:" + new string('e', 64));
        Assert.Equal('d', PlatformMatcher.Select(index, PlatformMatcher.Parse("linux/amd64"), d).Digest.Encoded[0]);
        Assert.Equal('a', PlatformMatcher.Select(index, PlatformMatcher.Parse("linux/arm/v6"), d).Digest.Encoded[0]);
        Assert.Equal('b', PlatformMatcher.Select(index, PlatformMatcher.Parse("linux/arm"), d).Digest.Encoded[0]);
        Assert.Equal('c', PlatformMatcher.Select(index, PlatformMatcher.Parse("linux/arm64"), d).Digest.Encoded[0]);
        var e = Assert.Throws<StrataException>(() => PlatformMatcher.Select(index, PlatformMatcher.Parse("linux/s390x"), d));
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Contains("linux/arm64/v8", e.Message);
        Assert.DoesNotContain("unknown", e.Message);
        Assert.Throws<StrataException>(() => PlatformMatcher.Parse("linux"));
    }

    [Fact]
    public void DistributionErrorsBecomeOneLine()
    {
        Assert.Equal("MANIFEST_UNKNOWN: manifest unknown; NAME_UNKNOWN: repository name not known to registry",
            RegistryErrors.Describe("""{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"},{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"""u8));
        Assert.Equal("<html>bad gateway", RegistryErrors.Describe("<html>bad gateway\n<body>"u8));
        Assert.Equal("", RegistryErrors.Describe(""u8));
    }
}
