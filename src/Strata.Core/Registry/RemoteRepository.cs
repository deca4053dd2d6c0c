using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Strata.Errors;
using Strata.Oci;

namespace Strata.Registry;

/// <summary>A manifest or index as the registry served it: exact bytes, their digest and media type.</summary>
internal sealed record RemoteManifest(byte[] Raw, string MediaType, Digest Digest)
{
    public Descriptor Descriptor => new() { MediaType = MediaType, Digest = Digest, Size = Raw.Length };
}

/// <summary>One repository of a registry: the distribution API's manifest, blob and tag endpoints.</summary>
internal sealed class RemoteRepository(RegistryClient client, string repository)
{
    private const int MaxManifestBytes = 4 << 20;
    private const int MaxConfigBytes = 32 << 20;

    private static readonly string[] ManifestTypes = [MediaTypes.OciIndex, MediaTypes.OciManifest, MediaTypes.DockerManifestList, MediaTypes.DockerManifest];

    public RegistryClient Client => client;
    public string Name => repository;
    public string PullScope => $"repository:{repository}:pull";
    public string PushScope => $"repository:{repository}:pull,push";

    private string Path(string rest) => $"v2/{repository}/{rest}";

    public static RemoteRepository For(RegistryClient client, ImageReference reference) => new(client, reference.Repository);

    /// <summary>GETs a manifest by tag or digest and verifies it: by the digest asked for, else by Docker-Content-Digest.</summary>
    public async Task<RemoteManifest> GetManifestAsync(string reference, CancellationToken cancellationToken)
    {
        var what = $"manifest {repository}:{reference}";
        using var response = await client.SendAsync(b =>
        {
            var r = new HttpRequestMessage(HttpMethod.Get, new Uri(b, Path($"manifests/{reference}")));
            foreach (var t in ManifestTypes) r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(t));
            return r;
        }, PullScope, what, cancellationToken).ConfigureAwait(false);
        var raw = await ReadBoundedAsync(response, MaxManifestBytes, what, cancellationToken).ConfigureAwait(false);
        var contentType = response.Content.Headers.ContentType?.MediaType;
        if (contentType is not null && contentType.StartsWith("application/vnd.docker.distribution.manifest.v1", StringComparison.Ordinal))
            throw StrataException.Unsupported($"{what} is a Docker schema 1 manifest, which strata does not support");
        var mediaType = DocumentMediaType(raw, contentType, what);

        Digest digest;
        if (Digest.TryParse(reference, out var asked))
        {
            if (!asked.IsVerifiable) throw StrataException.Unsupported($"cannot verify {what}: digest algorithm {asked.Algorithm}");
            digest = asked.Compute(raw);
            if (digest != asked) throw new DigestMismatchException(asked, digest, what);
        }
        else
        {
            digest = Digest.Sha256(raw);
            if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var header)
                && header.IsVerifiable && header.Compute(raw) != header)
                throw new DigestMismatchException(header, header.Compute(raw), what);
        }
        return new RemoteManifest(raw, mediaType, digest);
    }

    /// <summary>
    /// The type a document declares, which must agree with the Content-Type it was served with (a registry or
    /// a man in the middle must not make a manifest be read as something else).
    /// </summary>
    private static string DocumentMediaType(byte[] raw, string? contentType, string what)
    {
        string? declared;
        try
        {
            using var doc = JsonDocument.Parse(raw);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw StrataException.Invalid($"{what} is not a JSON object");
            declared = doc.RootElement.TryGetProperty("mediaType", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        }
        catch (JsonException e)
        {
            throw StrataException.Invalid($"{what} is not valid JSON: {e.Message}");
        }
        if (declared is not null && contentType is not null && MediaTypes.IsIndex(contentType) | MediaTypes.IsManifest(contentType) && declared != contentType)
            throw StrataException.Invalid($"{what}: the registry served it as {contentType} but it declares {declared}");
        var type = declared ?? contentType;
        if (!MediaTypes.IsIndex(type) && !MediaTypes.IsManifest(type))
        {
            // Untyped OCI documents: tell them by their fields.
            type = OciDocuments.IsIndex(raw, null) ? MediaTypes.OciIndex : MediaTypes.OciManifest;
            if (declared is not null || (contentType is not null && contentType != "application/json"))
                throw StrataException.Unsupported($"{what} has media type {declared ?? contentType}, which is not an image manifest or index");
        }
        return type!;
    }

    /// <summary>HEAD of a manifest: its digest (and type) without the body, or null when the registry lacks it.</summary>
    public async Task<Descriptor?> HeadManifestAsync(string reference, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(b =>
        {
            var r = new HttpRequestMessage(HttpMethod.Head, new Uri(b, Path($"manifests/{reference}")));
            foreach (var t in ManifestTypes) r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(t));
            return r;
        }, PullScope, $"manifest {repository}:{reference}", cancellationToken, r => r.StatusCode == HttpStatusCode.NotFound).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.Headers.TryGetValues("Docker-Content-Digest", out var values) || !Digest.TryParse(values.FirstOrDefault(), out var digest)) return null;
        return new Descriptor { MediaType = response.Content.Headers.ContentType?.MediaType ?? "", Digest = digest, Size = response.Content.Headers.ContentLength ?? 0 };
    }

    /// <summary>The size the registry has for a blob, or null when it has none.</summary>
    public async Task<long?> HeadBlobAsync(Digest digest, string scope, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(b => new HttpRequestMessage(HttpMethod.Head, new Uri(b, Path($"blobs/{digest}"))),
            scope, $"blob {repository}@{digest.Short}", cancellationToken, r => r.StatusCode == HttpStatusCode.NotFound).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NotFound ? null : response.Content.Headers.ContentLength ?? -1;
    }

    /// <summary>GET of a blob from an offset (a Range request when past 0); the answer is 200 or 206.</summary>
    public Task<HttpResponseMessage> GetBlobAsync(Digest digest, long offset, CancellationToken cancellationToken) =>
        client.SendAsync(b =>
        {
            var r = new HttpRequestMessage(HttpMethod.Get, new Uri(b, Path($"blobs/{digest}")));
            if (offset > 0) r.Headers.Range = new RangeHeaderValue(offset, null);
            return r;
        }, PullScope, $"blob {digest.Short}", cancellationToken);

    /// <summary>A small blob (a config) read whole and verified.</summary>
    public async Task<byte[]> GetSmallBlobAsync(Descriptor desc, CancellationToken cancellationToken)
    {
        var what = $"blob {desc.Digest.Short}";
        if (desc.Size > MaxConfigBytes) throw StrataException.Invalid($"{what} is {desc.Size} bytes: too large for a config");
        using var response = await GetBlobAsync(desc.Digest, 0, cancellationToken).ConfigureAwait(false);
        var raw = await ReadBoundedAsync(response, (int)desc.Size, what, cancellationToken).ConfigureAwait(false);
        if (raw.Length != desc.Size) throw StrataException.Invalid($"{what} is {raw.Length} bytes, its descriptor says {desc.Size}");
        if (desc.Digest.IsVerifiable && desc.Digest.Compute(raw) != desc.Digest) throw new DigestMismatchException(desc.Digest, desc.Digest.Compute(raw), what);
        return raw;
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(CancellationToken cancellationToken)
    {
        var tags = new List<string>();
        string next = Path("tags/list");
        for (int page = 0; page < 1000; page++)
        {
            var current = next;
            using var response = await client.SendAsync(b => new HttpRequestMessage(HttpMethod.Get, new Uri(b, current)), PullScope,
                $"tags of {repository}", cancellationToken).ConfigureAwait(false);
            var raw = await ReadBoundedAsync(response, 16 << 20, $"tags of {repository}", cancellationToken).ConfigureAwait(false);
            try
            {
                using var doc = JsonDocument.Parse(raw);
                if (doc.RootElement.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Array)
                    tags.AddRange(t.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
            }
            catch (JsonException e)
            {
                throw StrataException.Invalid($"tags of {repository}: invalid JSON: {e.Message}");
            }
            // Link: </v2/name/tags/list?last=x&n=y>; rel="next"
            if (!response.Headers.TryGetValues("Link", out var links) || links.FirstOrDefault() is not { } link || !link.Contains("rel=\"next\"", StringComparison.Ordinal)) break;
            int lt = link.IndexOf('<', StringComparison.Ordinal), gt = link.IndexOf('>', StringComparison.Ordinal);
            if (lt < 0 || gt < lt) break;
            next = link[(lt + 1)..gt].TrimStart('/');
        }
        return tags;
    }

    /// <summary>PUT of a manifest's exact bytes under a tag or digest; returns the digest the registry reports.</summary>
    public async Task PutManifestAsync(string reference, byte[] raw, string mediaType, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(b =>
        {
            var content = new ByteArrayContent(raw);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, new Uri(b, Path($"manifests/{reference}"))) { Content = content };
        }, PushScope, $"manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, int max, string what, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > max) throw StrataException.Invalid($"{what} is {response.Content.Headers.ContentLength} bytes: more than {max}");
        await using var s = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var ms = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = await s.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (ms.Length + n > max) throw StrataException.Invalid($"{what} is more than {max} bytes");
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }
}
