using System.IO.Pipelines;

namespace Strata.Engine;

/// <summary>
/// Runs the store's synchronous readers and writers against a caller's stream through a pipe that the engine fills
/// or drains asynchronously: a caller's stream may take only async I/O (ASP.NET's request and response bodies refuse
/// synchronous calls), and no thread waits on the network while the store works. Files and memory go direct.
/// </summary>
internal static class StreamPump
{
    // Large segments: the store writes in 1 MiB blocks, so each is handed over whole.
    private static readonly PipeOptions Options = new(pauseWriterThreshold: 8 << 20, resumeWriterThreshold: 4 << 20,
        minimumSegmentSize: 1 << 20, useSynchronizationContext: false);

    /// <summary>Runs <paramref name="write"/> on the thread pool into a stream whose bytes go on to <paramref name="output"/>.</summary>
    public static async Task WriteAsync(Action<Stream> write, Stream output, CancellationToken cancellationToken)
    {
        if (TakesSyncIo(output))
        {
            await Task.Run(() => write(output), cancellationToken).ConfigureAwait(false);
            return;
        }
        var pipe = new Pipe(Options);
        var producer = Task.Run(() =>
        {
            try
            {
                using (var stream = pipe.Writer.AsStream(leaveOpen: true)) write(stream);
                pipe.Writer.Complete();
            }
            catch (Exception e)
            {
                pipe.Writer.Complete(e);
                throw;
            }
        }, cancellationToken);
        try
        {
            await pipe.Reader.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The writer's next flush sees the reader gone and stops.
            await pipe.Reader.CompleteAsync(e).ConfigureAwait(false);
            await Task.WhenAny(producer).ConfigureAwait(false);
            if (producer.IsFaulted) await producer.ConfigureAwait(false); // the producer's error says more
            throw;
        }
        await producer.ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="read"/> on the thread pool over a stream fed from <paramref name="input"/>.</summary>
    public static async Task<T> ReadAsync<T>(Stream input, Func<Stream, T> read, CancellationToken cancellationToken)
    {
        if (TakesSyncIo(input)) return await Task.Run(() => read(input), cancellationToken).ConfigureAwait(false);
        var pipe = new Pipe(Options);
        // Once the reader is done (or failed), the pump stops too, even while it waits on a slow input.
        using var readerDone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = FillAsync(input, pipe.Writer, readerDone.Token);
        try
        {
            return await Task.Run(() =>
            {
                using var stream = pipe.Reader.AsStream();
                return read(stream);
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await readerDone.CancelAsync().ConfigureAwait(false);
            await pump.ConfigureAwait(false);
        }
    }

    /// <summary>Files (a pipe or terminal opened as one, too) and memory take blocking calls as well as any: no pipe needed.</summary>
    private static bool TakesSyncIo(Stream stream) => stream is FileStream or MemoryStream or UnmanagedMemoryStream;

    private static async Task FillAsync(Stream input, PipeWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            await input.CopyToAsync(writer, cancellationToken).ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The reader sees the input's failure as its own.
            await writer.CompleteAsync(e).ConfigureAwait(false);
        }
    }
}
