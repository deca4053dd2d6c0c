using System.IO.Compression;
using Strata.Archive.Compression;
using Strata.Images;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Registry;

/// <summary>
/// A gzip form of an uncompressed layer for the registry (committed layers are stored uncompressed, as podman's).
/// Compressed once at gzip level 1 (pushes are CPU-bound at level 6, moby#48106) and kept in the store: later
/// pushes of the same layer reuse the same blob, so its digest stays put.
/// </summary>
internal static class LayerCompressor
{
    public static Descriptor Gzip(StrataStore store, Descriptor layer, Func<string, string> mediaTypeFor)
    {
        var (diffId, size) = LayerDigests.Of(store, layer.Digest);
        foreach (var candidate in store.Images.BlobsWithDiffId(diffId))
        {
            if (candidate == layer.Digest || store.Content.GetSize(candidate) is not { } have) continue;
            if (CompressionDetector.Detect(store.Content, candidate) == Compression.Gzip)
                return new Descriptor { MediaType = mediaTypeFor(MediaTypes.OciLayerGzip), Digest = candidate, Size = have };
        }
        using var writer = store.Content.OpenWriter();
        using (var source = store.Content.OpenRead(layer.Digest))
        using (var verified = new VerifyingStream(source, layer.Digest, source.Length, $"stored blob {layer.Digest}"))
        using (var gzip = new GZipStream(new NonClosingStream(writer), CompressionLevel.Fastest))
            verified.CopyTo(gzip, 1 << 20); // rotten bytes are refused, not compressed into a blob with a good name
        var (digest, length) = writer.Commit();
        store.Images.PutLayerInfo(digest, diffId, size);
        return new Descriptor { MediaType = mediaTypeFor(MediaTypes.OciLayerGzip), Digest = digest, Size = length };
    }
}
