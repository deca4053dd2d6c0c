using Strata.Errors;
using Strata.IO;

namespace Strata.Archive.Compression;

/// <summary>Turns a decompressor's own exceptions into one InvalidContent error naming the format.</summary>
internal sealed class GuardedReadStream(Stream inner, string format) : ReadOnlyStream
{

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return inner.Read(buffer);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ZstdSharp.ZstdException)
        {
            throw new StrataException(ErrorKind.InvalidContent, $"corrupt or truncated {format} stream: {e.Message}", e);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
