using System.Diagnostics;
using System.Text;

namespace Strata.Tests.Infrastructure;

/// <summary>One run of an external program: what to run and how.</summary>
public sealed record ToolCall(string File, IReadOnlyList<string> Args)
{
    public TimeSpan Timeout { get; init; } = Tool.DefaultTimeout;
    public string? WorkingDirectory { get; init; }
    /// <summary>When false a non-zero exit is returned, not thrown.</summary>
    public bool Check { get; init; } = true;
    public string? Stdin { get; init; }
}

public sealed record ToolResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;
}

public sealed class ToolException(string message, ToolResult? result = null) : Exception(message)
{
    public ToolResult? Result { get; } = result;
}

/// <summary>Runs the peer tools (umoci, skopeo, mount...) the tests compare Strata with.</summary>
public static class Tool
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    // Tests may run with a PATH that lacks the sbin directories (setcap, mknod helpers live there).
    private static readonly string[] ExtraDirs = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

    public static ToolResult Run(string file, params string[] args) => Run(new ToolCall(file, args));

    public static Task<ToolResult> RunAsync(string file, params string[] args) => RunAsync(new ToolCall(file, args));

    // Every await below uses ConfigureAwait(false), so blocking here cannot deadlock on a test's context.
    public static ToolResult Run(ToolCall call) => RunAsync(call).GetAwaiter().GetResult();

    public static bool Exists(string name) => Resolve(name) is not null;

    public static string? Resolve(string name)
    {
        if (name.Contains('/'))
            return IsExecutable(name) ? name : null;
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(ExtraDirs))
        {
            var candidate = Path.Combine(dir, name);
            if (IsExecutable(candidate))
                return candidate;
        }
        return null;
    }

    public static async Task<ToolResult> RunAsync(ToolCall call, CancellationToken ct = default)
    {
        var commandLine = string.Join(' ', call.Args.Prepend(call.File).Select(Quote));
        var exe = Resolve(call.File) ?? throw new ToolException($"{call.File}: not found (on PATH or in sbin); run scripts/setup.sh");
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = call.WorkingDirectory ?? "",
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in call.Args)
            psi.ArgumentList.Add(a);

        using var process = Process.Start(psi) ?? throw new ToolException($"{commandLine}: could not start");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        if (call.Stdin is not null)
            await process.StandardInput.WriteAsync(call.Stdin.AsMemory(), ct).ConfigureAwait(false);
        process.StandardInput.Close();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(call.Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            var partial = new ToolResult(commandLine, -1, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
            if (ct.IsCancellationRequested)
                throw;
            throw new ToolException($"{commandLine}: timed out after {call.Timeout.TotalSeconds:0} s\n{Describe(partial)}", partial);
        }

        var result = new ToolResult(commandLine, process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        if (call.Check && !result.Succeeded)
            throw new ToolException($"{commandLine}: exit code {result.ExitCode}\n{Describe(result)}", result);
        return result;
    }

    private static string Describe(ToolResult r) =>
        $"--- stdout ---\n{Tail(r.Stdout)}\n--- stderr ---\n{Tail(r.Stderr)}";

    // Keep failure messages readable when a tool prints a whole tree listing.
    private static string Tail(string s) => s.Length <= 8000 ? s.TrimEnd() : "..." + s[^8000..].TrimEnd();

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@+,%".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    private static bool IsExecutable(string path) =>
        !OperatingSystem.IsWindows() && File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
