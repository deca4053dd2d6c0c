using Strata.Images;
using Strata.Oci;
using Strata.Union;

namespace Strata.Engine;

/// <summary>The container verbs: create, mount, umount, ps, rm, diff, commit, export; image mounts; df.</summary>
public sealed partial class StrataEngine
{
    /// <summary>A container: a thin writable layer on an image (its layers are unpacked once, if not already).</summary>
    /// <param name="image">The image: name, ID or digest.</param>
    /// <param name="name">The container's name; null makes one up.</param>
    /// <param name="progress">Told of each layer being unpacked.</param>
    /// <param name="cancellationToken">Cancels before the work starts.</param>
    public Task<Container> CreateContainerAsync(string image, string? name = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        WithStore(store =>
        {
            return Containers(store).Create(store.Resolve(image), name, progress is null ? null : progress.Report);
        }, cancellationToken);

    /// <summary>Every container, newest first, with its image's first name and whether it is mounted.</summary>
    public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(CancellationToken cancellationToken = default) =>
        WithStoreToRead(store =>
        {
            var containers = Containers(store);
            return (IReadOnlyList<ContainerSummary>)containers.List().Select(c =>
            {
                bool dead = containers.IsMountDead(c);
                return new ContainerSummary(c, store.Images.Get(c.ImageId) is { Names.Count: > 0 } r ? r.Names[0] : c.ImageId.Short,
                    containers.IsMounted(c) && !dead) { MountDead = dead };
            }).ToList();
        }, cancellationToken);

    /// <summary>A container by name, full ID or unique ID prefix.</summary>
    public Task<Container> GetContainerAsync(string container, CancellationToken cancellationToken = default) =>
        WithContainerToRead(container, (_, _, c) => c, cancellationToken);

    /// <summary>Mounts a container's merged view (or counts one more user of it) and returns its path.</summary>
    public Task<string> MountContainerAsync(string container, CancellationToken cancellationToken = default) =>
        WithContainer(container, (_, containers, c) => containers.Mount(c), cancellationToken);

    /// <summary>Counts one user of the mount less, unmounting with the last (or at once with <paramref name="force"/>).</summary>
    public Task<Container> UnmountContainerAsync(string container, bool force = false, CancellationToken cancellationToken = default) =>
        WithContainer(container, (_, containers, c) =>
        {
            containers.Unmount(c, force);
            return c;
        }, cancellationToken);

    /// <summary>Removes a container and its writable layer; a mounted one only with <paramref name="force"/>.</summary>
    public Task<Container> RemoveContainerAsync(string container, bool force = false, CancellationToken cancellationToken = default) =>
        WithStoreToFree(store => OnContainer(store, container, (_, containers, c) =>
        {
            containers.Remove(c, force);
            return c;
        }), cancellationToken);

    /// <summary>What changed in a container, sorted by path (docker diff).</summary>
    public Task<IReadOnlyList<Change>> DiffAsync(string container, CancellationToken cancellationToken = default) =>
        WithContainerToRead(container, (_, containers, c) => containers.Changes(c), cancellationToken);

    /// <summary>A new image: the container's image plus one layer of its changes.</summary>
    public Task<LoadedImage> CommitAsync(string container, CommitOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CommitOptions();
        var names = options.Reference is { } r ? new[] { ImageReference.Parse(r).ToString() } : [];
        return WithContainer(container, (store, containers, c) =>
            new ContainerCommitter(store, containers).Commit(c, names, options.Message, options.Author, options.Changes, options.Compression), cancellationToken);
    }

    /// <summary>docker export: the container's merged tree as a tar, read without mounting.</summary>
    public Task ExportToStreamAsync(string container, Stream output, CancellationToken cancellationToken = default) =>
        Guard(async () =>
        {
            using var store = await Task.Run(OpenStoreToRead, cancellationToken).ConfigureAwait(false);
            var containers = Containers(store);
            var c = containers.Resolve(container); // an unknown container fails before a byte is written
            await StreamPump.WriteAsync(stream => containers.Export(c, stream), output, cancellationToken).ConfigureAwait(false);
        });

    /// <summary>
    /// docker export -o: as <see cref="ExportToStreamAsync"/>, into a file made only once the container is found and
    /// named only once whole (a layer file that proves damaged midway leaves nothing).
    /// </summary>
    public Task ExportAsync(string container, string path, CancellationToken cancellationToken = default) =>
        WithContainerToRead(container, (_, containers, c) =>
        {
            IO.AtomicFile.Write(path, output => containers.Export(c, output));
            return 0;
        }, cancellationToken);

    /// <summary>Mounts an image read-only under the store's image-mounts/ and returns the path.</summary>
    public Task<string> MountImageAsync(string image, CancellationToken cancellationToken = default) =>
        WithStore(store =>
        {
            var local = store.Resolve(image);
            return Containers(store).MountImage(local);
        }, cancellationToken);

    /// <summary>Counts one user of an image mount less; returns the image's ID.</summary>
    public Task<Digest> UnmountImageAsync(string image, bool force = false, CancellationToken cancellationToken = default) =>
        WithStore(store =>
        {
            var id = store.Resolve(image).Id;
            Containers(store).UnmountImage(id, force);
            return id;
        }, cancellationToken);

    /// <summary>docker system df: images with shared and unique sizes, containers with their writable layers'.</summary>
    public Task<SpaceReport> DiskUsageAsync(CancellationToken cancellationToken = default) =>
        WithStoreToRead(store =>
        {
            return SpaceUsage.Measure(store, Containers(store, recordDriver: false));
        }, cancellationToken);
}
