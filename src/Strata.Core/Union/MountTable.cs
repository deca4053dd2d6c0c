using Strata.Snapshots;
using Strata.Storage;

namespace Strata.Union;

/// <summary>How a driver puts a snapshot's mounts on a directory and takes them off again.</summary>
internal interface IUnionMounter
{
    void Mount(string target, IReadOnlyList<MountSpec> mounts);

    void Unmount(string target);
}

/// <summary>
/// Counts mounts per target in the store, so two users of one mount share it and the last one unmounts. The count
/// is checked against the kernel's mount table, so one a reboot or a lazy unmount made stale is reset, not
/// trusted; a dead FUSE mount is taken off and mounted afresh.
/// </summary>
internal sealed class MountTable(StrataStore store, IUnionMounter mounter)
{
    /// <summary>Mounts (or counts one more user of) a snapshot's mounts at target.</summary>
    public string Mount(string target, IReadOnlyList<MountSpec> mounts)
    {
        using var tx = store.Mounts.BeginWrite();
        Directory.CreateDirectory(target); // in the transaction: a Tidy never removes it before it is mounted
        long count = store.Mounts.Count(target, tx);
        if (Fuse.FuseMount.IsDead(target)) Fuse.FuseMount.Unmount(target);
        if (IsMounted(target))
        {
            count++;
        }
        else
        {
            mounter.Mount(target, mounts);
            count = 1;
        }
        store.Mounts.Set(target, count, tx);
        tx.Commit();
        return target;
    }

    /// <summary>Drops one user; the last one (or force) unmounts. Returns whether it is unmounted now.</summary>
    public bool Unmount(string target, bool force = false)
    {
        using var tx = store.Mounts.BeginWrite();
        long count = store.Mounts.Count(target, tx);
        bool mounted = IsMounted(target);
        count = mounted ? count - 1 : 0;
        bool dead = Fuse.FuseMount.IsDead(target);
        if (force || count <= 0 || dead)
        {
            if (dead) Fuse.FuseMount.Unmount(target);
            else if (mounted) mounter.Unmount(target);
            store.Mounts.Delete(target, tx);
            tx.Commit();
            return true;
        }
        store.Mounts.Set(target, count, tx);
        tx.Commit();
        return false;
    }

    public static bool IsMounted(string target) => Native.Libc.IsMountPoint(target);

    /// <summary>
    /// What killed mounts and umounts (or a reboot) leave: counts of targets nothing is mounted on, and empty mount
    /// points under <paramref name="mountPoints"/> nothing is mounted on. In one write transaction, so no mount in
    /// flight (each holds one from making its mount point to its count) loses its own.
    /// </summary>
    public void Tidy(string mountPoints)
    {
        using var tx = store.Mounts.BeginWrite();
        foreach (var t in store.Mounts.Targets(tx).Where(t => !IsMounted(t))) store.Mounts.Delete(t, tx);
        if (Directory.Exists(mountPoints))
            foreach (var dir in Directory.EnumerateDirectories(mountPoints).Where(d => !IsMounted(d) && !Directory.EnumerateFileSystemEntries(d).Any()))
                Directory.Delete(dir);
        tx.Commit();
    }

    /// <summary>
    /// Takes off the FUSE mounts whose daemon died (killed, or the connection aborted) and forgets them, whichever
    /// driver asks: a container may have been mounted by the other one.
    /// </summary>
    public void Sweep()
    {
        // A store opened only to read is not changed, its mounts included: ps shows such a mount as dead instead.
        if (store.ReadOnly) return;
        foreach (var t in store.Mounts.Targets().Where(Fuse.FuseMount.IsDead))
        {
            Fuse.FuseMount.Unmount(t);
            store.Mounts.Delete(t, null);
        }
    }
}
