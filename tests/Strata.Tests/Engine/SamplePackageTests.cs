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

    private static string CopySample(string repo, TempDir tmp, string name, string feed)
    {
        var project = tmp.CreateDirectory(name);
        foreach (var f in Directory.GetFiles(Path.Combine(repo, "samples", name)))
            File.Copy(f, Path.Combine(project, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="strata-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        return project;
    }

    /// <summary>samples/Strata.Service: the engine behind ASP.NET, whose bodies take async I/O only.</summary>
    private static async Task ServiceLoadsListsAndServesImages(string repo, TempDir tmp, string feed, string version, string archive)
    {
        var ct = TestContext.Current.CancellationToken;
        var project = CopySample(repo, tmp, "Strata.Service", feed);
        await Tool.RunAsync(new ToolCall("dotnet", ["build", project, $"-p:StrataVersion={version}", "--nologo", "-v", "q"]) { Timeout = TimeSpan.FromMinutes(5) }, ct);
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var url = $"http://127.0.0.1:{port}";
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "run", "--no-build", "--project", project, "--", $"--urls={url}", $"--Strata:Root={tmp.Combine("service-store")}" })
            psi.ArgumentList.Add(a);
        using var service = System.Diagnostics.Process.Start(psi)!;
        var log = new System.Text.StringBuilder();
        service.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        service.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        service.BeginOutputReadLine();
        service.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    using var ready = await http.GetAsync("/images", ct);
                    if (ready.IsSuccessStatusCode) break;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !service.HasExited)
                {
                    await Task.Delay(200, ct);
                }
            }

            await using (var body = File.OpenRead(archive))
            {
                using var loaded = await http.PostAsync("/load", new StreamContent(body), ct);
                Assert.True(loaded.IsSuccessStatusCode, $"/load: {loaded.StatusCode} {await loaded.Content.ReadAsStringAsync(ct)}");
            }
            var list = await http.GetStringAsync("/images", ct);
            Assert.Contains("localhost/sample/app:1", list);
            using (var detail = JsonDocument.Parse(await http.GetStringAsync("/images/localhost/sample/app:1", ct)))
                Assert.Equal("/hello.txt", detail.RootElement.GetProperty("cmd")[1].GetString());
            using (var missing = await http.GetAsync("/images/localhost/no/such:1", ct))
                Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);

            var back = tmp.Combine("back.tar");
            await using (var file = File.Create(back))
            await using (var served = await http.GetStreamAsync("/images/localhost/sample/app:1/archive", ct))
                await served.CopyToAsync(file, ct);
            var inspect = await Tool.RunAsync("skopeo", "inspect", "--config", $"oci-archive:{back}");
            using var config = JsonDocument.Parse(inspect.Stdout);
            Assert.Equal(2, config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").GetArrayLength());
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            lock (log) throw new InvalidOperationException($"the service failed: {e.Message}\n{log}", e);
        }
        finally
        {
            if (!service.HasExited) service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        }
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
            var project = CopySample(repo, tmp, "Strata.Sample", feed);
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

            await ServiceLoadsListsAndServesImages(repo, tmp, feed, version, output);
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
