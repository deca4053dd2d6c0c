using Strata.Oci;

namespace Strata.Storage;

/// <summary>An image the store knows: its ID (the config digest), the manifest that describes it, and its names.</summary>
public sealed record ImageRecord(
    Digest Id,
    Digest ManifestDigest,
    string ManifestMediaType,
    DateTimeOffset? Created,
    long Size,
    IReadOnlyList<string> Names);
