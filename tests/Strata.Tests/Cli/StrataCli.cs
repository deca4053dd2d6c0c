using System.Diagnostics;

namespace Strata.Tests.Cli;

/// <summary>
/// Runs the strata command as a user does, out of process: the NativeAOT binary named by STRATA_BIN
/// (scripts/test.sh publishes it), else the JIT build next to the tests.
/// </summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public CliResult Ok()
    {
        Assert.True(ExitCode == 0, $"strata exited {ExitCode}: {Stderr}{Stdout}");
        return this;
    }
}

public static class StrataCli
{
    public static CliResult Run(string root, params string[] args) => RunIn(root, null, args);

    /// <summary>The command as a shell word list, for pipelines: `strata --root ROOT`.</summary>
    public static string ShellPrefix(string root)
    {
        var bin = Environment.GetEnvironmentVariable("STRATA_BIN");
        var exe = string.IsNullOrEmpty(bin) ? $"dotnet '{Path.Combine(AppContext.BaseDirectory, "strata.dll")}'" : $"'{bin}'";
        return $"{exe} --root '{root}'";
    }

    public static CliResult RunIn(string root, string? workingDirectory, params string[] args)
    {
        var bin = Environment.GetEnvironmentVariable("STRATA_BIN");
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (!string.IsNullOrEmpty(bin))
        {
            psi.FileName = bin;
        }
        else
        {
            psi.FileName = "dotnet";
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "strata.dll"));
        }
        psi.ArgumentList.Add("--root");
        psi.ArgumentList.Add(root);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"strata {string.Join(' ', args)} did not finish in 5 minutes");
        }
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}
