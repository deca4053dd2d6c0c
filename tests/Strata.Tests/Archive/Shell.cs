using System.Diagnostics;

namespace Strata.Tests.Archive;

/// <summary>Runs real tar/bsdtar/gzip/zstd in a scratch directory under /dev/shm.</summary>
internal sealed class Shell : IDisposable
{
    public Shell()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        Dir = Path.Combine(root, "strata-tar-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
    }

    public string Dir { get; }

    public string P(string relative) => Path.Combine(Dir, relative);

    /// <summary>Runs a shell command in Dir; fails the test on a non-zero exit.</summary>
    public string Run(string command)
    {
        var psi = new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            WorkingDirectory = Dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"`{command}` did not finish in 2 minutes");
        }
        Assert.True(p.ExitCode == 0, $"`{command}` exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    public static bool Has(string tool) =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, tool)));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // .NET cannot name files whose names are not UTF-8 (the tar corpus makes some): rm can.
            using var rm = Process.Start("rm", ["-rf", Dir]);
            rm.WaitForExit(TimeSpan.FromMinutes(1));
        }
    }
}
