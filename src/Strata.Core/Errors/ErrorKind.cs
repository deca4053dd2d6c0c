namespace Strata.Errors;

/// <summary>What went wrong, in the terms a caller acts on. Each kind maps to one CLI exit code.</summary>
public enum ErrorKind
{
    Internal,
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    DigestMismatch,
    InvalidContent,
    Unsupported,
    PermissionDenied,
    Unavailable,
    Conflict,
}
