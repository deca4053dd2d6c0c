namespace Strata.Tests.Infrastructure;

/// <summary>
/// Tests that make a mount namespace of their own (rootless podman's pause process, unshare) run alone, after the
/// parallel ones: a new namespace copies every mount of the moment, and where mounts are private (as on CI) a FUSE
/// mount another test is taking down lives on in that copy, keeping its session or daemon from ending (issue 12).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MountNamespaceCollection
{
    public const string Name = "tests that make mount namespaces";
}
