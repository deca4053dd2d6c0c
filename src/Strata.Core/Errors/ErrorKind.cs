namespace Strata.Errors;

/// <summary>What went wrong, in the terms a caller acts on. Each kind maps to one CLI exit code.</summary>
public enum ErrorKind
{
    /// <summary>A fault in Strata or the machine (exit 1).</summary>
    Internal,
    /// <summary>A bad argument: a malformed reference, name or option (exit 2).</summary>
    InvalidArgument,
    /// <summary>No such image, container, file or registry repository (exit 3).</summary>
    NotFound,
    /// <summary>The name or target is taken (exit 4).</summary>
    AlreadyExists,
    /// <summary>The store or machine is not in a state that allows it, e.g. another driver's store (exit 9).</summary>
    FailedPrecondition,
    /// <summary>Content did not match its digest (exit 5).</summary>
    DigestMismatch,
    /// <summary>Malformed content: bad JSON, a hostile tar, an unknown layout (exit 5).</summary>
    InvalidContent,
    /// <summary>Something Strata does not do, e.g. an unknown media type (exit 6).</summary>
    Unsupported,
    /// <summary>Refused by the system or a registry (exit 7).</summary>
    PermissionDenied,
    /// <summary>A registry or service could not be reached (exit 8).</summary>
    Unavailable,
    /// <summary>In use, ambiguous or otherwise in the way of another object (exit 4).</summary>
    Conflict,
    /// <summary>The file system under the store or an output failed: full, over quota, read-only, or an I/O error (exit 10).</summary>
    Storage,
}
