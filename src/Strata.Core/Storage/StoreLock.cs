using Strata.Native;

namespace Strata.Storage;

/// <summary>
/// The collection lock (flock on root/store.lock). A collection or a repairing check holds it exclusive while it
/// decides what nothing holds and deletes it; an operation holds it shared only for the moment it takes a lease on
/// something and acts on it (<see cref="Lease.Hold{T}"/>). Waits are bounded by the store's busy timeout
/// ("another strata process holds the store", exit 4). The kernel drops it when the process dies.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private readonly FileStream _file;

    private StoreLock(StrataStore store, bool exclusive)
    {
        _file = Libc.OpenForLocking(Path.Combine(store.Root, "store.lock"), create: true);
        try
        {
            Libc.Lock(_file, exclusive, wait: true, "the store", bound: store.BusyTimeout);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public static StoreLock Shared(StrataStore store) => new(store, exclusive: false);
    public static StoreLock Exclusive(StrataStore store) => new(store, exclusive: true);

    public void Dispose()
    {
        Libc.Unlock(_file);
        _file.Dispose();
    }
}
