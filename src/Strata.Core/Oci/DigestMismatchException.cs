using Strata.Errors;

namespace Strata.Oci;

/// <summary>Content whose digest is not the one it was asked for (<see cref="ErrorKind.DigestMismatch"/>).</summary>
public sealed class DigestMismatchException(Digest expected, Digest actual, string? what = null)
    : StrataException(ErrorKind.DigestMismatch,
        $"{what ?? "content"}: digest mismatch: expected {expected}, got {actual}")
{
    /// <summary>The digest the content should have had.</summary>
    public Digest Expected { get; } = expected;

    /// <summary>The digest it had.</summary>
    public Digest Actual { get; } = actual;
}
