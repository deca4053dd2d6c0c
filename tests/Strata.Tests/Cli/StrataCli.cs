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

    public static CliResult RunIn(string root, string? workingDirectory, params string[] args) => RunWith(root, workingDirectory, null, args);

    /// <summary>With extra environment variables (auth files, retry timing).</summary>
    public static CliResult RunEnv(string root, IReadOnlyDictionary<string, string> env, params string[] args) => RunWith(root, null, env, args);

    /// <summary>Starts strata without waiting (for kill -9 tests).</summary>
    public static Process Start(string root, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var psi = StartInfo(root, null, env, args);
        return Process.Start(psi)!;
    }

    private static CliResult RunWith(string root, string? workingDirectory, IReadOnlyDictionary<string, string>? env, string[] args)
    {
        using var p = Process.Start(StartInfo(root, workingDirectory, env, args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"strata {string.Join(' ', args)} did not finish in 5 minutes");
        }
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static ProcessStartInfo StartInfo(string root, string? workingDirectory, IReadOnlyDictionary<string, string>? env, string[] args)
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
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return psi;
    }
}
