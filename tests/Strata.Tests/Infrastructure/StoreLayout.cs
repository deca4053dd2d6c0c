using Strata.Storage;

namespace Strata.Tests.Infrastructure;

/// <summary>Where a store keeps things on disk, for tests that look behind the CLI (read from its snapshot records).</summary>
internal static class StoreLayout
{
    /// <summary>The directory a container's changes land in (its writable snapshot's tree).</summary>
    public static string UpperOf(string root, string containerId)
    {
        using var store = StrataStore.Open(root);
        var s = store.Snapshots.Get(containerId) ?? throw new InvalidOperationException($"no snapshot for container {containerId}");
        return Path.Combine(root, s.Dir!, "diff");
    }

    /// <summary>The directories of the store's unpacked layers (its committed snapshots).</summary>
    public static IReadOnlyList<string> LayerDirs(string root)
    {
        using var store = StrataStore.Open(root);
        return store.Snapshots.List().Where(s => s.State == SnapshotState.Committed).Select(s => Path.Combine(root, s.Dir!)).ToList();
    }

    /// <summary>Every snapshot directory the records name (layers, containers' writable layers, unpacks in flight).</summary>
    public static IReadOnlySet<string> SnapshotDirs(string root)
    {
        using var store = StrataStore.Open(root);
        return store.Snapshots.List().Where(s => s.Dir is not null).Select(s => Path.GetFullPath(Path.Combine(root, s.Dir!))).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Every snapshot's key and state ("committed", "active", "view").</summary>
    public static IReadOnlyList<(string Key, string State)> Snapshots(string root)
    {
        using var store = StrataStore.Open(root);
        return store.Snapshots.List().Select(s => (s.Key, s.State.ToString().ToLowerInvariant())).ToList();
    }

    /// <summary>The overlay links the store's snapshot rows name.</summary>
    public static IReadOnlySet<string> NamedLinks(string root)
    {
        using var store = StrataStore.Open(root);
        return store.Snapshots.List().Where(s => s.Link is not null).Select(s => s.Link!).ToHashSet(StringComparer.Ordinal);
    }
}
