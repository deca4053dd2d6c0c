using Strata.Oci;

namespace Strata.Errors;

public sealed class DigestMismatchException(Digest expected, Digest actual, string? what = null)
    : StrataException(ErrorKind.DigestMismatch,
        $"{what ?? "content"}: digest mismatch: expected {expected}, got {actual}")
{
    public Digest Expected { get; } = expected;
    public Digest Actual { get; } = actual;
}
