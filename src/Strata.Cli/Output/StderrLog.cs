using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Strata.Cli.Output;

/// <summary>
/// Log lines with a UTC timestamp on file descriptor 2 itself, whatever it points to when the line is written: a
/// FUSE daemon points fd 2 at its log file after start-up (.NET's Console.Error keeps a dup of the old one).
/// </summary>
public sealed class StderrLog(string category) : ILogger, ILoggerProvider
{
    private static readonly Lock Gate = new();
    private static readonly StreamWriter Fd2 = new(new FileStream(new SafeFileHandle(2, ownsHandle: false), FileAccess.Write, 1)) { AutoFlush = true };

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        var line = $"{DateTime.UtcNow:O} {category}: {formatter(state, exception)}";
        lock (Gate) Fd2.WriteLine(line);
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose() { }
}
