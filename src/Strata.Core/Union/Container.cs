using Strata.Oci;

namespace Strata.Union;

/// <summary>A container: a writable layer (diff + work) on the shared layers of one image.</summary>
/// <param name="Id">64 hex characters.</param>
/// <param name="Name">A unique name (adjective_noun when none was given).</param>
/// <param name="ImageId">The image it was made from.</param>
/// <param name="Created">When it was made.</param>
/// <param name="Directory">Where its writable layer lives in the store.</param>
public sealed record Container(string Id, string Name, Digest ImageId, DateTimeOffset Created, string Directory)
{
    /// <summary>The writable layer: what the container changed, in overlay form.</summary>
    public string UpperDir => Path.Combine(Directory, "diff");

    /// <summary>overlayfs's work directory.</summary>
    public string WorkDir => Path.Combine(Directory, "work");

    /// <summary>Where the merged view is mounted (vfs: the container's own tree).</summary>
    public string MergedDir => Path.Combine(Directory, "merged");
}
