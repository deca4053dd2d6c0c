using Strata.Oci;

namespace Strata.Archive;

/// <summary>What a written layer is known by: DiffID of the tar, digest and size of the blob as stored.</summary>
internal sealed record LayerWriteResult(Digest DiffId, long UncompressedSize, Digest Digest, long Size, Oci.Compression Compression);
