namespace Strata.Errors;

/// <summary>An error Strata reports to its user: one line, one kind.</summary>
public class StrataException : Exception
{
    public StrataException(ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    public ErrorKind Kind { get; }

    public static StrataException NotFound(string message) => new(ErrorKind.NotFound, message);
    public static StrataException Invalid(string message) => new(ErrorKind.InvalidContent, message);
    public static StrataException BadArgument(string message) => new(ErrorKind.InvalidArgument, message);
    public static StrataException Unsupported(string message) => new(ErrorKind.Unsupported, message);
}
