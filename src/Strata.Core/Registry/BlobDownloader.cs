using System.Net;
using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Registry;

/// <summary>
/// Streams a blob from a registry into the store, hashing as it goes. The bytes land in a resumable partial
/// file, so a cut connection, a retry or a later process continues with a Range request from where they end;
/// the blob becomes visible only when its size and digest check out, and a blob that fails the check is deleted.
/// </summary>
internal static class BlobDownloader
{
    public static async Task DownloadAsync(RemoteRepository repo, Descriptor blob, ContentStore store, ITransferProgress progress, CancellationToken cancellationToken)
    {
        var options = repo.Client.Options;
        bool restartedAfterMismatch = false;
        while (true)
        {
            using var writer = store.OpenResumable(blob.Digest, blob.Size);
            if (writer is null) return; // another process stored it meanwhile
            if (writer.Offset > 0) progress.Status(blob.Digest, $"Resuming at {writer.Offset} bytes");
            int failures = 0;
            while (writer.Offset < blob.Size || blob.Size == 0)
            {
                long before = writer.Offset;
                try
                {
                    await FetchAsync(repo, blob, writer, progress, options.StallTimeout, cancellationToken).ConfigureAwait(false);
                    if (writer.Offset >= blob.Size) break;
                    throw new IOException($"the connection ended after {writer.Offset} of {blob.Size} bytes");
                }
                catch (StrataException e) when (e.Kind == ErrorKind.Unavailable)
                {
                    // The request itself was already retried: say what is kept and stop.
                    throw new StrataException(e.Kind, $"{e.Message} ({writer.Offset} of {blob.Size} bytes kept for the next attempt)", e);
                }
                catch (Exception e) when (RegistryClient.IsTransient(e, cancellationToken))
                {
                    // A transfer cut mid-body. Progress since the last cut earns a fresh allowance: a flaky link still finishes a big blob.
                    if (writer.Offset > before) failures = 0;
                    if (++failures > options.Retries)
                        throw new StrataException(ErrorKind.Unavailable, $"blob {blob.Digest.Short}: {RegistryClient.Describe(e)} (gave up after {options.Retries} retries; {writer.Offset} of {blob.Size} bytes kept for the next attempt)", e);
                    var delay = repo.Client.Backoff(failures - 1);
                    progress.Status(blob.Digest, $"Retrying in {delay.TotalSeconds:0.#} s ({failures}/{options.Retries}): {RegistryClient.Describe(e)}");
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
            }
            try
            {
                writer.Commit();
                return;
            }
            catch (DigestMismatchException) when (!restartedAfterMismatch && writer.Offset > 0)
            {
                // Resumed bytes may be what went wrong (a partial from a bad source): start once from zero.
                restartedAfterMismatch = true;
                progress.Status(blob.Digest, "Digest mismatch; downloading again from the start");
            }
        }
    }

    private static async Task FetchAsync(RemoteRepository repo, Descriptor blob, ContentWriter writer, ITransferProgress progress, TimeSpan stall, CancellationToken cancellationToken)
    {
        long offset = writer.Offset;
        using var response = await repo.GetBlobAsync(blob.Digest, offset, cancellationToken).ConfigureAwait(false);
        if (offset > 0)
        {
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                if (response.Content.Headers.ContentRange is not { From: { } from } || from != offset)
                    throw new HttpRequestException($"the registry answered the range from {offset} with {response.Content.Headers.ContentRange}");
            }
            else
            {
                // No range support: take the whole blob again.
                writer.Restart();
            }
        }
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[1 << 20];
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            idle.CancelAfter(stall);
            int n = await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
            if (n == 0) break;
            await writer.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            progress.Update(blob.Digest, writer.Offset);
        }
    }
}
