using System.IO.Compression;
using System.Text.Json;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Engine;

/// <summary>
/// The library as a user gets it: the package `dotnet pack` makes, referenced by samples/Strata.Sample from a local
/// feed, built and run; what the sample saves is read by skopeo.
/// </summary>
public class SamplePackageTests
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Strata.slnx"))) return dir.FullName;
        throw new InvalidOperationException("the repository root (Strata.slnx) is not above the test binaries");
    }

    [Fact]
    public async Task PackTheLibraryThenBuildAndRunTheSampleAgainstIt()
    {
        Requires.Tool("skopeo");
        using var tmp = new TempDir("sample");
        var repo = RepoRoot();
        // A version of its own, so the machine's package cache never serves an older build of the same number.
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var feed = tmp.CreateDirectory("feed");
        var slow = TimeSpan.FromMinutes(5);
        await Tool.RunAsync(new ToolCall("dotnet", ["pack", Path.Combine(repo, "src/Strata.Core/Strata.Core.csproj"), "-c", "Release", "-o", feed, $"-p:Version={version}", "--nologo"]) { Timeout = slow }, TestContext.Current.CancellationToken);
        var package = Path.Combine(feed, $"Strata.{version}.nupkg");
        using (var zip = ZipFile.OpenRead(package))
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", names);
            Assert.Contains("lib/net10.0/Strata.Core.dll", names);
            Assert.Contains("lib/net10.0/Strata.Core.xml", names);
        }

        try
        {
            // The sample, outside the repository, as a user's project: the local feed beside the default sources.
            var project = tmp.CreateDirectory("Strata.Sample");
            foreach (var f in new[] { "Strata.Sample.csproj", "Program.cs" })
                File.Copy(Path.Combine(repo, "samples/Strata.Sample", f), Path.Combine(project, f));
            await File.WriteAllTextAsync(Path.Combine(project, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="strata-local" value="{feed}" />
                  </packageSources>
                </configuration>
                """, TestContext.Current.CancellationToken);
            var rootfs = tmp.CreateDirectory("rootfs", "etc");
            await File.WriteAllTextAsync(Path.Combine(rootfs, "os-release"), "ID=sample\n", TestContext.Current.CancellationToken);
            var output = tmp.Combine("app.tar");
            var run = await Tool.RunAsync(new ToolCall("dotnet", ["run", "--project", project, $"-p:StrataVersion={version}", "--", tmp.Combine("store"), tmp.Combine("rootfs"), output]) { Timeout = slow }, TestContext.Current.CancellationToken);
            Assert.Contains("A /hello.txt", run.Stdout);
            Assert.Contains($"saved {output}", run.Stdout);

            var inspect = await Tool.RunAsync("skopeo", "inspect", "--config", $"oci-archive:{output}");
            using var config = JsonDocument.Parse(inspect.Stdout);
            Assert.Equal("/hello.txt", config.RootElement.GetProperty("config").GetProperty("Cmd")[1].GetString());
            Assert.Equal(2, config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").GetArrayLength());
        }
        finally
        {
            // Leave no test build of the package in the machine's cache.
            var cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "strata", version);
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        }
    }
}
