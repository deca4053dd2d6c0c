using Strata.Oci;

namespace Strata.Images;

/// <summary>Where an image's blobs come from while it is imported: a layout directory, or the store itself.</summary>
internal interface IBlobSource
{
    /// <summary>Opens a blob, or returns null when the source does not have it.</summary>
    Stream? TryOpen(Digest digest);
}

/// <summary>The blobs/ALG/ENCODED tree of an OCI image layout directory.</summary>
internal sealed class LayoutBlobSource(string layoutDirectory) : IBlobSource
{
    public Stream? TryOpen(Digest digest)
    {
        var path = Path.Combine(layoutDirectory, "blobs", digest.Algorithm, digest.Encoded);
        return File.Exists(path) ? Native.UnlockedFile.OpenRead(path) : null;
    }
}
