using Strata.Errors;

namespace Strata.Cli;

/// <summary>One stable exit code per error kind (documented in docs/cli.md).</summary>
public static class ExitCodes
{
    public static int For(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => 2,
        ErrorKind.NotFound => 3,
        ErrorKind.AlreadyExists or ErrorKind.Conflict => 4,
        ErrorKind.DigestMismatch or ErrorKind.InvalidContent => 5,
        ErrorKind.Unsupported => 6,
        ErrorKind.PermissionDenied => 7,
        ErrorKind.Unavailable => 8,
        ErrorKind.FailedPrecondition => 9,
        ErrorKind.Storage => 10,
        _ => 1,
    };
}
