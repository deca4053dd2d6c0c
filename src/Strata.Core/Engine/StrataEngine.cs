using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Storage;
using Strata.Union;

namespace Strata.Engine;

/// <summary>
/// Strata as a library: one object over one store root whose methods are the verbs of the <c>strata</c> command.
/// It is the only way from a program (the CLI included) into the store: locks, in-use checks and garbage
/// collection happen here, so every caller gets the same guarantees.
/// </summary>
/// <remarks>
/// Construction does no I/O. Each call opens the store for itself (an SQLite connection, a few cheap checks) and
/// closes it, so calls on one engine may run concurrently, from any threads, exactly as separate processes on one
/// root do: SQLite transactions and advisory locks keep them consistent. Failures are <see cref="Errors.StrataException"/>
/// with an <see cref="Errors.ErrorKind"/> to switch on.
/// </remarks>
public sealed partial class StrataEngine
{
    private readonly ILogger _log;

    /// <summary>An engine over the store at <see cref="StrataEngineOptions.Root"/>; nothing is read or written until a call.</summary>
    public StrataEngine(StrataEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Root)) throw Errors.StrataException.BadArgument("the store root must not be empty");
        Options = options with { Root = Path.GetFullPath(options.Root) };
        _log = options.LoggerFactory?.CreateLogger("Strata") ?? NullLogger.Instance;
    }

    /// <summary>The options it was made with, the root made absolute.</summary>
    public StrataEngineOptions Options { get; }

    /// <summary>The store root, made absolute.</summary>
    public string Root => Options.Root;

    /// <summary>Opens the store for one call; <paramref name="fixDriver"/> records a new store's driver, as any command with --driver does.</summary>
    private StrataStore OpenStore(bool fixDriver = true, bool withoutWal = false)
    {
        var store = StrataStore.Open(Root, Options.BusyTimeout, withoutWal);
        try
        {
            if (fixDriver && Options.Driver is { } d && Options.Snapshotter is null) StorageDrivers.Resolve(store, d);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the store for a call that only reads it: as <see cref="OpenStore"/> when the store can be written, else
    /// (a read-only mount, another user's store, a disk too full for SQLite's WAL index) read-only.
    /// </summary>
    private StrataStore OpenStoreToRead()
    {
        try
        {
            return OpenStore();
        }
        catch (Exception e) when (StrataStore.IsUnwritable(e))
        {
            return StrataStore.OpenReadOnly(Root, Options.BusyTimeout);
        }
    }

    /// <summary>The store's containers and layers under the chosen driver; <paramref name="recordDriver"/> false for calls that only look.</summary>
    private ContainerStore Containers(StrataStore store, bool recordDriver = true) =>
        ContainerStore.Open(store, Options.Driver, recordDriver && !store.ReadOnly, Options.OverlayProgram, Options.Snapshotter);

    /// <summary>
    /// Garbage collection (prune): blobs, ingest files and snapshots no image, container or live process holds. It holds the store lock
    /// exclusive while it decides and deletes, so an operation in flight either took its lease first (and keeps what
    /// it holds) or comes after (and finds the garbage gone).
    /// </summary>
    /// <param name="store">The store.</param>
    /// <param name="partialsOlderThan">How old a killed pull's partial download must be to go (prune frees all it can).</param>
    private PruneResult Collect(StrataStore store, TimeSpan partialsOlderThan)
    {
        using var exclusive = StoreLock.Exclusive(store);
        Lease.ExpireDead(store);
        var (blobs, bytes) = GarbageCollector.CollectAll(store, partialsOlderThan);
        bytes += Containers(store, recordDriver: false).Collect();
        LogCollected(_log, blobs, bytes, Root);
        return new PruneResult(blobs, bytes);
    }

    /// <summary>The collection after an rmi: only what the removed image referenced is looked at.</summary>
    private void CollectImage(StrataStore store, Oci.Digest image, ImageRefs refs)
    {
        using var exclusive = StoreLock.Exclusive(store);
        Lease.ExpireDead(store);
        var (blobs, bytes) = GarbageCollector.Collect(store, refs.Blobs);
        bytes += Containers(store, recordDriver: false).Collect(image, refs);
        LogCollected(_log, blobs, bytes, Root);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "collected {Blobs} blobs, {Bytes} bytes in {Root}")]
    private static partial void LogCollected(ILogger logger, int blobs, long bytes, string root);

    /// <summary>One call's work on the store, opened for it and closed after, off the caller's thread.</summary>
    private Task<T> WithStore<T>(Func<StrataStore, T> body, CancellationToken cancellationToken) =>
        Run(() =>
        {
            using var store = OpenStore();
            return body(store);
        }, cancellationToken);

    /// <summary>One call's work that only reads the store (see <see cref="OpenStoreToRead"/>).</summary>
    private Task<T> WithStoreToRead<T>(Func<StrataStore, T> body, CancellationToken cancellationToken) =>
        Run(() =>
        {
            using var store = OpenStoreToRead();
            return body(store);
        }, cancellationToken);

    /// <summary>
    /// One call's work that frees space (rmi, prune, rm): on a nearly full disk the space reserve goes first, so
    /// the database can still take the transaction that lets the rest go; with no reserve to give, the database is
    /// written without its WAL.
    /// </summary>
    private Task<T> WithStoreToFree<T>(Func<StrataStore, T> body, CancellationToken cancellationToken) =>
        Run(() =>
        {
            SpaceReserve.ReleaseIfLow(Root);
            using var store = OpenStore(withoutWal: SpaceReserve.TooFullForWal(Root));
            return body(store);
        }, cancellationToken);

    /// <summary>One call's work on a container, found by name, full ID or unique ID prefix.</summary>
    private Task<T> WithContainer<T>(string container, Func<StrataStore, ContainerStore, Container, T> body, CancellationToken cancellationToken) =>
        WithStore(store => OnContainer(store, container, body), cancellationToken);

    /// <summary>As <see cref="WithContainer"/>, for a call that only reads.</summary>
    private Task<T> WithContainerToRead<T>(string container, Func<StrataStore, ContainerStore, Container, T> body, CancellationToken cancellationToken) =>
        WithStoreToRead(store => OnContainer(store, container, body), cancellationToken);

    private T OnContainer<T>(StrataStore store, string container, Func<StrataStore, ContainerStore, Container, T> body)
    {
        var containers = Containers(store);
        return body(store, containers, containers.Resolve(container));
    }

    /// <summary>Blocking store work runs off the caller's thread, so an async host's threads are not held by disk I/O.</summary>
    private Task<T> Run<T>(Func<T> body, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return body();
            }
            catch (Exception e) when (StorageFaults.Translate(e, Root) is { } told)
            {
                throw told;
            }
        }, cancellationToken);

    /// <summary>An async call whose disk and database failures are told as <see cref="Errors.ErrorKind.Storage"/>, as <see cref="Run"/> does.</summary>
    private async Task<T> Guard<T>(Func<Task<T>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception e) when (StorageFaults.Translate(e, Root) is { } told)
        {
            throw told;
        }
    }

    private async Task Guard(Func<Task> body) => await Guard(async () => { await body().ConfigureAwait(false); return 0; }).ConfigureAwait(false);
}
