using Strata.Oci;

namespace Strata.Union;

/// <summary>A container: a writable layer (diff + work) on the shared layers of one image.</summary>
public sealed record Container(string Id, string Name, Digest ImageId, DateTimeOffset Created, string Directory)
{
    public string UpperDir => Path.Combine(Directory, "diff");
    public string WorkDir => Path.Combine(Directory, "work");
    public string MergedDir => Path.Combine(Directory, "merged");
}
