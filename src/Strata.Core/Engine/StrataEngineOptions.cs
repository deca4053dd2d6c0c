using Microsoft.Extensions.Logging;
using Strata.Registry;
using Strata.Snapshots;
using Strata.Union;

namespace Strata.Engine;

/// <summary>
/// Everything an engine needs to know, passed in: the library reads no environment variable and changes no
/// process-wide state. The command line builds these from its flags and the environment (STRATA_ROOT, ...).
/// </summary>
public sealed record StrataEngineOptions
{
    /// <summary>The store root (as podman's --root). Relative paths are taken from the current directory once, at open.</summary>
    public required string Root { get; init; }

    /// <summary>
    /// The storage driver to use; null takes the store's (a new store records the best available: overlay as root,
    /// else fuse, else vfs). Overlay and fuse keep layers in one form, so one store takes either.
    /// </summary>
    public StorageDriver? Driver { get; init; }

    /// <summary>
    /// A snapshotter of the caller's to keep layers and containers' writable layers in, instead of the store's own
    /// (the store's records of its own are then not consulted). <see cref="Driver"/> says how its mounts are
    /// mounted: overlay by the kernel, fuse by Strata's FUSE union, vfs not at all (binds are read where they are).
    /// The caller keeps it the same across calls on one store.
    /// </summary>
    public ISnapshotter? Snapshotter { get; init; }

    /// <summary>How registries are reached: TLS, credentials, auth files, retries, an optional HTTP handler.</summary>
    public RegistryOptions Registry { get; init; } = new();

    /// <summary>
    /// The strata executable that serves FUSE mounts (<c>--driver fuse</c>) from a background process; null: this
    /// process's own executable when it is strata, else <c>strata</c> on the PATH.
    /// </summary>
    public string? OverlayProgram { get; init; }

    /// <summary>
    /// How long a call that changes the store waits while another process holds the store's database for writing
    /// before it fails with <see cref="Errors.ErrorKind.Conflict"/> (30 s by default).
    /// </summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the engine logs; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
