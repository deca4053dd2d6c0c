using Strata.Errors;
using Strata.Oci;
using Strata.Registry;
using Strata.Storage;

namespace Strata.Engine;

/// <summary>The registry verbs: pull, push, login, logout, and looking at a remote image without pulling it.</summary>
public sealed partial class StrataEngine
{
    /// <summary>
    /// Pulls an image (the platform's, from an index; this machine's by default): blobs the store lacks are downloaded
    /// in parallel, each verified and resumable, and unpacked in order as they arrive; the image is named last.
    /// </summary>
    public Task<PullResult> PullAsync(string reference, Platform? platform = null, ITransferProgress? progress = null, CancellationToken cancellationToken = default)
    {
        var r = ImageReference.Parse(reference);
        return Guard(async () =>
        {
            using var store = await Task.Run(() => OpenStore(), cancellationToken).ConfigureAwait(false);
            var layers = Containers(store).Layers;
            return await new ImagePuller(store, layers, Options.Registry, progress ?? NoProgress.Instance)
                .PullAsync(r, platform, cancellationToken).ConfigureAwait(false);
        });
    }

    /// <summary>Pushes a stored image to <paramref name="destination"/> (default: the name it was given by).</summary>
    public Task<PushResult> PushAsync(string image, string? destination = null, ManifestFormat format = ManifestFormat.Keep,
        ITransferProgress? progress = null, CancellationToken cancellationToken = default)
    {
        var dest = ImageReference.Parse(destination ?? image);
        return Guard(async () =>
        {
            using var store = await Task.Run(() => OpenStore(), cancellationToken).ConfigureAwait(false);
            var local = store.Resolve(image);
            return await new ImagePusher(store, Options.Registry, progress ?? NoProgress.Instance)
                .PushAsync(local, dest, format, cancellationToken).ConfigureAwait(false);
        });
    }

    /// <summary>Checks the credentials against the registry, then keeps them in the auth file; returns the registry's name.</summary>
    public async Task<string> LoginAsync(string registry, RegistryCredentials credentials, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var files = Options.Registry.AuthFiles ?? throw StrataException.BadArgument("no auth file to keep credentials in");
        if (credentials.Username.Length == 0 || credentials.Password.Length == 0) throw StrataException.BadArgument("login needs a user name and a password");
        var host = RegistryHost.Normalize(registry);
        using (var client = new RegistryClient(host, Options.Registry with { Credentials = credentials }))
            await client.VerifyCredentialsAsync(cancellationToken).ConfigureAwait(false);
        AuthFile.Store(host, credentials, files);
        return host;
    }

    /// <summary>Removes a registry's credentials (every registry's when null); returns the registry's name.</summary>
    public Task<string?> LogoutAsync(string? registry, CancellationToken cancellationToken = default) =>
        Run(() =>
        {
            var files = Options.Registry.AuthFiles ?? throw StrataException.BadArgument("no auth file to remove credentials from");
            var host = registry is null ? null : RegistryHost.Normalize(registry);
            if (!AuthFile.Remove(host, files) && host is not null) throw StrataException.NotFound($"not logged into {host}");
            return host;
        }, cancellationToken);

    /// <summary>A remote image as skopeo inspect sees it: the platform's manifest, its config, the repository's tags.</summary>
    public Task<RemoteImageInfo> InspectRemoteAsync(string reference, Platform? platform = null, CancellationToken cancellationToken = default) =>
        WithRepository(reference, async (r, repo) =>
        {
            var image = await RemoteImage.ResolveAsync(repo, r, platform, cancellationToken).ConfigureAwait(false);
            var config = await repo.GetSmallBlobAsync(image.Manifest.Config, cancellationToken).ConfigureAwait(false);
            var tags = await repo.ListTagsAsync(cancellationToken).ConfigureAwait(false);
            return new RemoteImageInfo(r, image.Top.Digest, image.Manifest, config, tags);
        });

    /// <summary>The manifest or index a reference names, byte for byte as the registry serves it.</summary>
    public Task<byte[]> GetRemoteManifestAsync(string reference, CancellationToken cancellationToken = default) =>
        WithRepository(reference, async (r, repo) =>
            (await repo.GetManifestAsync(r.Digest?.ToString() ?? r.Tag!, cancellationToken).ConfigureAwait(false)).Raw);

    /// <summary>The config of the image a reference names (the platform's, for an index), as served.</summary>
    public Task<byte[]> GetRemoteConfigAsync(string reference, Platform? platform = null, CancellationToken cancellationToken = default) =>
        WithRepository(reference, async (r, repo) =>
        {
            var image = await RemoteImage.ResolveAsync(repo, r, platform, cancellationToken).ConfigureAwait(false);
            return await repo.GetSmallBlobAsync(image.Manifest.Config, cancellationToken).ConfigureAwait(false);
        });

    /// <summary>A reference's repository, reached with the engine's registry options for one call.</summary>
    private async Task<T> WithRepository<T>(string reference, Func<ImageReference, RemoteRepository, Task<T>> body)
    {
        var r = ImageReference.Parse(reference);
        using var client = new RegistryClient(r.Registry, Options.Registry);
        return await body(r, RemoteRepository.For(client, r)).ConfigureAwait(false);
    }
}

/// <summary>What <see cref="StrataEngine.InspectRemoteAsync"/> finds: the digest of the document the reference names, and the platform's image.</summary>
public sealed record RemoteImageInfo(ImageReference Reference, Digest Digest, ImageManifest Manifest, ReadOnlyMemory<byte> RawConfig, IReadOnlyList<string> Tags);
