using Strata.Errors;

namespace Strata.Oci;

/// <summary>Content whose digest is not the one it was asked for (<see cref="ErrorKind.DigestMismatch"/>).</summary>
public sealed class DigestMismatchException(Digest expected, Digest actual, string? what = null)
    : StrataException(ErrorKind.DigestMismatch,
        $"{what ?? "content"}: digest mismatch: expected {expected}, got {actual}")
{
    public Digest Expected { get; } = expected;
    public Digest Actual { get; } = actual;
}
