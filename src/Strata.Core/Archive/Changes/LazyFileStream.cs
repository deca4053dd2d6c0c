using Strata.Archive.Compression;
using Strata.Errors;
using Strata.IO;

namespace Strata.Archive.Changes;

/// <summary>
/// A file's content opened on first read and closed at its end, so a diff of a large tree holds one file
/// open at a time. A file that changed size meanwhile is an error, not a corrupt layer.
/// </summary>
internal sealed class LazyFileStream(string path, long size) : ReadOnlyStream
{
    private FileStream? _file;
    private long _read;

    public override int Read(Span<byte> buffer)
    {
        if (_read == size)
        {
            Close();
            return 0;
        }
        _file ??= Native.UnlockedFile.OpenRead(path, bufferSize: 1);
        if (buffer.Length > size - _read) buffer = buffer[..(int)(size - _read)];
        int n = _file.Read(buffer);
        if (n == 0) throw new StrataException(ErrorKind.Conflict, $"{path} shrank while it was read");
        _read += n;
        if (_read == size) Close();
        return n;
    }

    private new void Close()
    {
        _file?.Dispose();
        _file = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Close();
        base.Dispose(disposing);
    }
}
