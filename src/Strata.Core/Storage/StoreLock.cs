using Strata.Native;

namespace Strata.Storage;

/// <summary>
/// A whole-store advisory lock (flock on root/store.lock). Writers that add content hold it shared until
/// their record is committed; garbage collection holds it exclusive, so it never deletes a blob that a
/// concurrent load has ingested but not yet named. The kernel drops it when the process dies.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private readonly FileStream _file;

    private StoreLock(string root, bool exclusive)
    {
        _file = Libc.OpenForLocking(Path.Combine(root, "store.lock"), create: true);
        Libc.Lock(_file, exclusive, wait: true, "the store");
    }

    public static StoreLock Shared(string root) => new(root, exclusive: false);
    public static StoreLock Exclusive(string root) => new(root, exclusive: true);

    public void Dispose()
    {
        Libc.Unlock(_file);
        _file.Dispose();
    }
}
