using Strata.Storage;

namespace Strata.Snapshots;

/// <summary>
/// Full copies (containerd's native snapshotter, podman's vfs): an active snapshot starts as a copy of its parent's
/// whole tree and a layer's tree is the whole image up to it. Slow and large, but it needs neither overlayfs nor
/// privilege: every mount is a bind of a directory, which Strata reads where it is.
/// </summary>
internal sealed class VfsSnapshotter(StrataStore store) : DirectorySnapshotter(store, Path.Combine(store.Root, "vfs"))
{
    public override string Name => "vfs";

    protected override void Populate(string dir, IReadOnlyList<SnapshotRecord> parents)
    {
        var tree = Path.Combine(dir, "diff");
        if (parents.Count == 0)
        {
            Directory.CreateDirectory(tree);
            return;
        }
        // The copy reads every byte of the parent: checked against its record as it goes, so damage is refused, not copied.
        var check = parents[0].Tree is null ? null : RecordCheck.For(this, parents[0]);
        TreeCopy.Copy(TreeOf(parents[0]), tree, check is null ? null : check.Check);
    }

    protected override IReadOnlyList<MountSpec> MountsOf(IReadOnlyList<SnapshotRecord> chain) => chain[0].State switch
    {
        SnapshotState.Active => [MountSpec.Bind(TreeOf(chain[0]), readOnly: false)],
        SnapshotState.Committed => [MountSpec.Bind(TreeOf(chain[0]), readOnly: true)],
        _ => [MountSpec.Bind(chain.Count > 1 ? TreeOf(chain[1]) : Empty, readOnly: true)],
    };
}
