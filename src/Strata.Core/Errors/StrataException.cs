namespace Strata.Errors;

/// <summary>An error Strata reports to its user: one line, one kind.</summary>
public class StrataException : Exception
{
    /// <summary>An error of a kind, with a one-line message.</summary>
    public StrataException(ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    /// <summary>What went wrong, to switch on (the CLI's exit code follows it).</summary>
    public ErrorKind Kind { get; }

    internal static StrataException NotFound(string message) => new(ErrorKind.NotFound, message);
    internal static StrataException Invalid(string message) => new(ErrorKind.InvalidContent, message);
    internal static StrataException BadArgument(string message) => new(ErrorKind.InvalidArgument, message);
    internal static StrataException Unsupported(string message) => new(ErrorKind.Unsupported, message);
}
