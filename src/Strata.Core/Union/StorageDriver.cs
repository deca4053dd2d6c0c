using Strata.Errors;
using Strata.Native;
using Strata.Storage;

namespace Strata.Union;

/// <summary>How layers and containers are kept on disk.</summary>
public enum StorageDriver
{
    /// <summary>The kernel's overlayfs: layers stacked at mount time, a container is a thin upper directory.</summary>
    Overlay,

    /// <summary>A full copy per layer and per container: slow and large, but needs no mount and no privilege.</summary>
    Vfs,

    /// <summary>overlay's layers and containers, mounted by Strata's FUSE union: no privilege needed (fusermount3).</summary>
    Fuse,
}

/// <summary>
/// The store records its driver the first time layers are kept. overlay and fuse keep layers in one form, so a
/// store of either takes the other for one command (a container may be mounted by both); vfs layers are another
/// form, and a --driver that needs the other form is refused.
/// </summary>
internal static class StorageDrivers
{
    public static StorageDriver Resolve(StrataStore store, StorageDriver? wanted, bool record = true)
    {
        // Only a call that may record takes the write transaction: one that only looks must work on a read-only store.
        using var tx = record ? store.Settings.BeginWrite() : null;
        if (store.Settings.Get(StoreSettings.Driver, tx) is { } recorded && Parse(recorded) is { } have)
        {
            if (wanted is { } w && Form(w) != Form(have))
                throw new StrataException(ErrorKind.FailedPrecondition,
                    $"the store at {store.Root} uses the {Name(have)} driver, not {Name(w)}: use another --root");
            return wanted ?? have;
        }
        var chosen = wanted ?? Best();
        if (!record) return chosen;
        store.Settings.Add(StoreSettings.Driver, Name(chosen), tx);
        if (Form(chosen) == StorageDriver.Overlay && Libc.GetEuid() != 0) store.Settings.Add(StoreSettings.LayerForm, "rootless", tx);
        tx!.Commit();
        return chosen;
    }

    /// <summary>The best this machine offers: overlay as root, else fuse, else vfs.</summary>
    public static StorageDriver Best() => OverlayAvailable() ? StorageDriver.Overlay : FuseAvailable() ? StorageDriver.Fuse : StorageDriver.Vfs;

    /// <summary>Whether the store's overlay layers were made without root (<see cref="Archive.RootlessForm"/>).</summary>
    public static bool IsRootless(StrataStore store) =>
        store.Settings.Get(StoreSettings.LayerForm) is "rootless";

    private static StorageDriver? Parse(string name) => name switch
    {
        "overlay" => StorageDriver.Overlay,
        "vfs" => StorageDriver.Vfs,
        "fuse" => StorageDriver.Fuse,
        _ => null,
    };

    public static string Name(StorageDriver d) => d switch { StorageDriver.Vfs => "vfs", StorageDriver.Fuse => "fuse", _ => "overlay" };

    /// <summary>The on-disk form a driver keeps layers in.</summary>
    private static StorageDriver Form(StorageDriver d) => d == StorageDriver.Fuse ? StorageDriver.Overlay : d;

    /// <summary>FUSE as root needs /dev/fuse; without root, fusermount3 too.</summary>
    private static bool FuseAvailable() =>
        File.Exists("/dev/fuse") && (Libc.GetEuid() == 0 || File.Exists("/usr/bin/fusermount3") || File.Exists("/bin/fusermount3"));

    /// <summary>overlayfs needs the module and CAP_SYS_ADMIN (rootless overlay mounts are a later driver's job).</summary>
    private static bool OverlayAvailable() =>
        Libc.GetEuid() == 0 && File.Exists("/proc/filesystems") && UnlockedFile.ReadLines("/proc/filesystems").Any(l => l.EndsWith("\toverlay", StringComparison.Ordinal));
}
