using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>Shared steps of the registry tests: isolated auth files, fast retries, images put in place by skopeo.</summary>
public static class RegistryFixture
{
    /// <summary>An environment where only the test's own auth file counts and retries back off in milliseconds.</summary>
    public static Dictionary<string, string> Env(TempDir tmp, params (string Key, string Value)[] extra)
    {
        var env = new Dictionary<string, string>
        {
            ["REGISTRY_AUTH_FILE"] = tmp.Combine("auth.json"),
            ["XDG_RUNTIME_DIR"] = tmp.CreateDirectory("xdg"),
            ["STRATA_REGISTRY_RETRY_DELAY_MS"] = "20",
        };
        foreach (var (k, v) in extra) env[k] = v;
        return env;
    }

    /// <summary>skopeo copies a sample (gzip, or its zstd form) into the registry.</summary>
    public static void Seed(RegistryServer registry, string image, string repository, bool zstd = false)
    {
        var sample = SampleImages.Get(image);
        registry.CopyIn(zstd ? $"oci:{sample.ZstdLayoutDir}:{sample.Tag}" : sample.OciReference, repository);
    }

    public static string Id(CliResult r) => r.Ok().Stdout.Trim().Split('\n')[^1].Replace("sha256:", "", StringComparison.Ordinal);
}
