using System.Net;
using System.Net.Http.Headers;
using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Registry;

/// <summary>
/// Uploads a blob from the store: a cross-repository mount when another repository of the registry has it, one
/// PUT for small blobs, PATCH chunks with Content-Range for large ones (resuming from the registry's own count
/// after a failure), then the closing PUT with the digest.
/// </summary>
internal static class BlobUploader
{
    /// <summary>Returns "mounted from REPO" or "pushed".</summary>
    public static async Task<string> UploadAsync(RemoteRepository repo, Descriptor blob, ContentStore store, string? mountFrom,
        ITransferProgress progress, CancellationToken cancellationToken)
    {
        var client = repo.Client;
        var start = $"v2/{repo.Name}/blobs/uploads/";
        var scope = repo.PushScope;
        if (mountFrom is not null)
        {
            start += $"?mount={blob.Digest}&from={Uri.EscapeDataString(mountFrom)}";
            scope += $" repository:{mountFrom}:pull";
        }
        Uri location;
        using (var response = await client.SendAsync(b => new HttpRequestMessage(HttpMethod.Post, new Uri(b, start)) { Content = new ByteArrayContent([]) },
            scope, $"upload of {blob.Digest.Short}", cancellationToken).ConfigureAwait(false))
        {
            if (response.StatusCode == HttpStatusCode.Created && mountFrom is not null) return $"Mounted from {mountFrom}";
            location = Location(response, await client.EndpointAsync(cancellationToken).ConfigureAwait(false));
        }

        // Bytes leave only once they are known whole: bit rot in the store is refused here, in one clear line, rather
        // than by the registry (or, worse, by nothing: a registry that trusts the client's digest).
        await Task.Run(() => store.Verify(blob.Digest), cancellationToken).ConfigureAwait(false);
        long offset = 0;
        long chunk = client.Options.ChunkSize;
        if (blob.Size > chunk)
        {
            while (offset < blob.Size)
            {
                long length = Math.Min(chunk, blob.Size - offset);
                var at = location;
                var from = offset;
                using var response = await client.SendAsync(_ =>
                {
                    var content = new StreamContent(Slice(store, blob, from, length, progress));
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    content.Headers.ContentLength = length;
                    // Content-Range here is "start-end", no "bytes " prefix (distribution spec).
                    content.Headers.TryAddWithoutValidation("Content-Range", $"{from}-{from + length - 1}");
                    return new HttpRequestMessage(HttpMethod.Patch, at) { Content = content };
                }, repo.PushScope, $"upload of {blob.Digest.Short}", cancellationToken, r => r.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    // A retried chunk the registry already had: continue from what it reports.
                    offset = await UploadedAsync(repo, at, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                location = Location(response, at);
                offset = RangeEnd(response) is { } end ? end + 1 : from + length;
            }
        }

        var close = location;
        using (await client.SendAsync(_ =>
        {
            var uri = WithDigest(close, blob.Digest);
            HttpContent content = offset < blob.Size
                ? new StreamContent(Slice(store, blob, 0, blob.Size, progress))
                : new ByteArrayContent([]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = offset < blob.Size ? blob.Size : 0;
            return new HttpRequestMessage(HttpMethod.Put, uri) { Content = content };
        }, repo.PushScope, $"upload of {blob.Digest.Short}", cancellationToken).ConfigureAwait(false)) { }
        return "Pushed";
    }

    private static async Task<long> UploadedAsync(RemoteRepository repo, Uri location, CancellationToken cancellationToken)
    {
        using var response = await repo.Client.SendAsync(_ => new HttpRequestMessage(HttpMethod.Get, location), repo.PushScope,
            "upload status", cancellationToken).ConfigureAwait(false);
        return RangeEnd(response) is { } end ? end + 1 : 0;
    }

    /// <summary>The Range header of an upload answer: "0-END" (inclusive).</summary>
    private static long? RangeEnd(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Range", out var values) || values.FirstOrDefault() is not { } range) return null;
        var dash = range.LastIndexOf('-');
        return dash >= 0 && long.TryParse(range[(dash + 1)..], out var end) ? end : null;
    }

    /// <summary>The upload URL, relative or absolute, with whatever query the registry put in it (never rebuilt).</summary>
    private static Uri Location(HttpResponseMessage response, Uri relativeTo) =>
        response.Headers.Location is { } l ? new Uri(relativeTo, l)
            : throw StrataException.Invalid($"the registry answered an upload request without a Location (HTTP {(int)response.StatusCode})");

    private static Uri WithDigest(Uri location, Digest digest)
    {
        var b = new UriBuilder(location);
        var q = b.Query.TrimStart('?');
        b.Query = (q.Length > 0 ? q + "&" : "") + "digest=" + Uri.EscapeDataString(digest.ToString());
        return b.Uri;
    }

    private static Stream Slice(ContentStore store, Descriptor blob, long offset, long length, ITransferProgress progress)
    {
        var file = store.OpenRead(blob.Digest);
        file.Position = offset;
        return new ProgressReadStream(file, length, done => progress.Update(blob.Digest, offset + done));
    }

    /// <summary>Reads at most <c>length</c> bytes of a stream, reporting the count as it goes.</summary>
    private sealed class ProgressReadStream(Stream inner, long length, Action<long> report) : IO.ReadOnlyStream
    {
        private long _read;
        public override long Length => length;

        public override int Read(Span<byte> buffer)
        {
            if (_read >= length) return 0;
            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, length - _read)]);
            _read += n;
            report(_read);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_read >= length) return 0;
            int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _read)], cancellationToken).ConfigureAwait(false);
            _read += n;
            report(_read);
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
