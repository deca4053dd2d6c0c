using Strata.Errors;

namespace Strata.Archive.Compression;

/// <summary>Turns a decoder's exceptions into one clear error kind: corrupt or truncated compressed data.</summary>
internal sealed class DecoderErrorStream(Stream decoder, string format) : ReadOnlyStream
{
    public override int Read(Span<byte> buffer)
    {
        try
        {
            return decoder.Read(buffer);
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or EndOfStreamException or InvalidOperationException)
        {
            throw StrataException.Invalid($"corrupt or truncated {format} stream: {e.Message}");
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or EndOfStreamException or InvalidOperationException)
        {
            throw StrataException.Invalid($"corrupt or truncated {format} stream: {e.Message}");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) decoder.Dispose();
        base.Dispose(disposing);
    }
}
