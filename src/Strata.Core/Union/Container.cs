using Strata.Oci;

namespace Strata.Union;

/// <summary>A container: a writable snapshot (keyed by its ID) on the top layer of one image.</summary>
/// <param name="Id">64 hex characters.</param>
/// <param name="Name">A unique name (adjective_noun when none was given).</param>
/// <param name="ImageId">The image it was made from.</param>
/// <param name="Created">When it was made.</param>
/// <param name="Directory">The container's own directory in the store (its mount point is under it).</param>
public sealed record Container(string Id, string Name, Digest ImageId, DateTimeOffset Created, string Directory)
{
    /// <summary>Where the merged view is mounted (vfs, which mounts nothing, shows the container's tree where it is).</summary>
    public string MergedDir => Path.Combine(Directory, "merged");
}
