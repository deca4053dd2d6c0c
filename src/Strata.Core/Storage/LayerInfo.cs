using Strata.Oci;

namespace Strata.Storage;

/// <summary>A read-only layer on disk: its ChainID, its directory under overlay/, and the short link naming it.</summary>
internal sealed record LayerInfo(Digest ChainId, Digest? Parent, Digest DiffId, string Dir, string Link, long Size);
