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
}

/// <summary>
/// The store records its driver the first time layers are kept; a later --driver that names another is refused,
/// since neither driver can read the other's layers.
/// </summary>
public static class StorageDrivers
{
    public static StorageDriver Resolve(StrataStore store, string? requested, bool record = true)
    {
        StorageDriver? wanted = requested switch
        {
            null => null,
            "overlay" => StorageDriver.Overlay,
            "vfs" => StorageDriver.Vfs,
            _ => throw StrataException.BadArgument($"unknown storage driver \"{requested}\" (overlay or vfs)"),
        };
        using var tx = store.Db.BeginWrite();
        if (store.Db.Scalar("SELECT value FROM settings WHERE key = 'driver'", tx) is string recorded)
        {
            var have = recorded == "vfs" ? StorageDriver.Vfs : StorageDriver.Overlay;
            if (wanted is { } w && w != have)
                throw new StrataException(ErrorKind.FailedPrecondition,
                    $"the store at {store.Root} uses the {Name(have)} driver, not {Name(w)}: use another --root");
            return have;
        }
        var chosen = wanted ?? (OverlayAvailable() ? StorageDriver.Overlay : StorageDriver.Vfs);
        if (!record) return chosen;
        store.Db.Execute("INSERT INTO settings(key, value) VALUES ('driver', $v)", tx, ("$v", Name(chosen)));
        tx.Commit();
        return chosen;
    }

    public static string Name(StorageDriver d) => d == StorageDriver.Vfs ? "vfs" : "overlay";

    /// <summary>overlayfs needs the module and CAP_SYS_ADMIN (rootless overlay mounts are a later driver's job).</summary>
    private static bool OverlayAvailable() =>
        Libc.GetEuid() == 0 && File.Exists("/proc/filesystems") && File.ReadLines("/proc/filesystems").Any(l => l.EndsWith("\toverlay", StringComparison.Ordinal));
}
