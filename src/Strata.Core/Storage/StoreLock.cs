using System.Diagnostics;
using Strata.Errors;
using Strata.Native;

namespace Strata.Storage;

/// <summary>
/// The collection lock (flock on root/store.lock). A collection or a repairing check holds it exclusive while it
/// decides what nothing holds and deletes it; an operation holds it shared only for the moment it takes a lease on
/// something and acts on it (<see cref="Lease.Hold{T}"/>). Waits are bounded by the store's busy timeout. The
/// kernel drops it when the process dies.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private readonly FileStream _file;

    private StoreLock(StrataStore store, bool exclusive)
    {
        var path = Path.Combine(store.Root, "store.lock");
        _file = Libc.OpenForLocking(path, create: true);
        try
        {
            Wait(exclusive, store.BusyTimeout);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public static StoreLock Shared(StrataStore store) => new(store, exclusive: false);
    public static StoreLock Exclusive(StrataStore store) => new(store, exclusive: true);

    private void Wait(bool exclusive, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        int pause = 1;
        while (!Libc.Lock(_file, exclusive, wait: false, "the store"))
        {
            if (clock.Elapsed >= timeout)
                throw new StrataException(ErrorKind.Conflict,
                    $"the store is busy: another strata process {(exclusive ? "is using it" : "is collecting garbage or checking it")} (waited {timeout.TotalSeconds:0} s)");
            Thread.Sleep(pause);
            pause = Math.Min(pause * 2, 50);
        }
    }

    public void Dispose()
    {
        Libc.Unlock(_file);
        _file.Dispose();
    }
}
