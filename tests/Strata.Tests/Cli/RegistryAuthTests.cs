using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>Anonymous, Basic and Bearer-token registries; credentials from --creds, --authfile, or login.</summary>
public class RegistryAuthTests
{
    [Fact]
    public async Task BasicAuthNeedsCredentialsAndTakesThemFromEveryPlace()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryAuth.Basic);
        RegistryFixture.Seed(registry, "busybox", "auth/busybox:1");
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        var reference = $"{registry.Host}/auth/busybox:1";

        var anonymous = StrataCli.RunEnv(tmp.CreateDirectory("r0"), env, "pull", "-q", reference);
        Assert.Equal(7, anonymous.ExitCode);
        Assert.Contains("authentication required", anonymous.Stderr);
        Assert.Single(anonymous.Stderr.Trim().Split('\n'));

        var wrong = StrataCli.RunEnv(tmp.CreateDirectory("r1"), env, "pull", "-q", "--creds", "strata:wrong", reference);
        Assert.Equal(7, wrong.ExitCode);

        var id = RegistryFixture.Id(StrataCli.RunEnv(tmp.CreateDirectory("r2"), env, "pull", "-q", "--creds", registry.Creds, reference));
        var authfile = registry.WriteAuthFile(tmp.Combine("other-auth.json"));
        Assert.Equal(id, RegistryFixture.Id(StrataCli.RunEnv(tmp.CreateDirectory("r3"), env, "pull", "-q", "--authfile", authfile, reference)));

        // login checks the credentials before keeping them; logout forgets them.
        var badLogin = StrataCli.RunEnv(tmp.CreateDirectory("r4"), env, "login", "-u", RegistryServer.User, "-p", "nope", registry.Host);
        Assert.Equal(7, badLogin.ExitCode);
        Assert.False(File.Exists(env["REGISTRY_AUTH_FILE"]));
        Assert.Contains("Login Succeeded", StrataCli.RunEnv(tmp.CreateDirectory("r5"), env, "login", "-u", RegistryServer.User, "-p", RegistryServer.Password, registry.Host).Ok().Stdout);
        var root = tmp.CreateDirectory("r6");
        Assert.Equal(id, RegistryFixture.Id(StrataCli.RunEnv(root, env, "pull", "-q", reference)));
        StrataCli.RunEnv(root, env, "push", "-q", reference, $"{registry.Host}/auth/copy:1").Ok();
        StrataCli.RunEnv(root, env, "logout", registry.Host).Ok();
        Assert.Equal(3, StrataCli.RunEnv(root, env, "logout", registry.Host).ExitCode);
        Assert.Equal(7, StrataCli.RunEnv(tmp.CreateDirectory("r7"), env, "pull", "-q", reference).ExitCode);
    }

    [Fact]
    public async Task BearerTokensAreFetchedPerScopeAndReused()
    {
        Requires.Tool("skopeo");
        await using var registry = await RegistryServer.StartAsync(RegistryAuth.Token);
        RegistryFixture.Seed(registry, "kitchensink", "team/app:1");
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        var reference = $"{registry.Host}/team/app:1";

        var anonymous = StrataCli.RunEnv(tmp.CreateDirectory("r0"), env, "pull", "-q", reference);
        Assert.Equal(7, anonymous.ExitCode);

        var tokens = registry.Tokens!;
        tokens.Requests.Clear();
        var root = tmp.CreateDirectory("r1");
        StrataCli.RunEnv(root, env, "pull", "-q", "--creds", registry.Creds, reference).Ok();
        // One token for the repository's pull scope serves the manifest, the config and every layer.
        Assert.Equal(["repository:team/app:pull"], tokens.Requests.ToArray());

        tokens.Requests.Clear();
        StrataCli.RunEnv(root, env, "push", "-q", "--creds", registry.Creds, reference, $"{registry.Host}/team/copy:1").Ok();
        var scopes = tokens.Requests.ToArray();
        Assert.Contains("repository:team/copy:pull,push", scopes);
        // Mounting from team/app needs pull on it as well, asked for with the push scope in one token.
        Assert.Contains("repository:team/copy:pull,push repository:team/app:pull", scopes);
        Assert.True(scopes.Length <= 3, string.Join(" | ", scopes));
        Tool.Run("skopeo", "inspect", "--tls-verify=false", $"--creds={registry.Creds}", $"docker://{registry.Host}/team/copy:1");

        var wrong = StrataCli.RunEnv(tmp.CreateDirectory("r2"), env, "pull", "-q", "--creds", "strata:wrong", reference);
        Assert.Equal(7, wrong.ExitCode);
        Assert.Contains("refused", wrong.Stderr);
        Assert.Contains("Login Succeeded", StrataCli.RunEnv(root, env, "login", "-u", RegistryServer.User, "-p", RegistryServer.Password, registry.Host).Ok().Stdout);
    }

    [Fact]
    public async Task AnUntrustedCertificateFailsClearlyUnlessTlsVerifyIsOff()
    {
        await using var registry = await RegistryServer.StartAsync(tls: true);
        Requires.Tool("skopeo");
        Tool.Run("skopeo", "copy", "-q", "--dest-tls-verify=false", SampleImages.Get("busybox").OciReference, $"docker://{registry.Host}/tls/busybox:1");
        using var tmp = new TempDir();
        var env = RegistryFixture.Env(tmp);
        var reference = $"{registry.Host}/tls/busybox:1";
        var refused = StrataCli.RunEnv(tmp.CreateDirectory("r0"), env, "pull", "-q", reference);
        Assert.Equal(8, refused.ExitCode);
        Assert.Contains("TLS", refused.Stderr);
        Assert.Contains("--tls-verify=false", refused.Stderr);
        var root = tmp.CreateDirectory("r1");
        StrataCli.RunEnv(root, env, "pull", "-q", "--tls-verify=false", reference).Ok();
        StrataCli.RunEnv(root, env, "push", "-q", "--tls-verify=false", reference, $"{registry.Host}/tls/copy:1").Ok();
    }
}
