using System.Buffers;
using System.Globalization;
using System.Text;
using Strata.Errors;

namespace Strata.Archive.Tar;

/// <summary>
/// Deterministic tar writer: ustar headers, preceded by a PAX 'x' header only when a field does not fit
/// (long or non-ASCII names, large ids or sizes, sub-second mtimes, xattrs with raw byte values).
/// </summary>
internal sealed class TarWriter : IDisposable
{
    private const int Block = TarHeader.BlockSize;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _header = new byte[Block];
    private readonly ArrayBufferWriter<byte> _pax = new();
    private bool _finished, _disposed;

    public TarWriter(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
    }

    /// <summary>
    /// Writes one entry. A Regular entry's content comes from <paramref name="data"/> (or else entry.Data) and
    /// must be exactly entry.Size bytes; sparse entries are written dense.
    /// </summary>
    public void Write(TarEntry entry, Stream? data = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
            throw new InvalidOperationException("the tar archive is already finished");

        bool regular = entry.Type == TarEntryType.Regular;
        long size = regular ? entry.Size : 0;
        if (size < 0)
            throw StrataException.BadArgument($"negative size for tar entry {entry.Name}");
        data ??= regular ? entry.Data : null;
        if (size > 0 && data == null)
            throw StrataException.BadArgument($"no data for tar entry {entry.Name} of {size} bytes");

        string name = entry.Name;
        if (entry.Type == TarEntryType.Directory)
            name = name is "." or "" ? "./" : name.EndsWith('/') ? name : name + "/";

        _pax.ResetWrittenCount();
        Span<byte> h = _header;
        h.Clear();

        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        if (!PutName(h, nameBytes))
            PaxText("path", nameBytes);
        byte[] linkBytes = Encoding.UTF8.GetBytes(entry.LinkName);
        if (!PutText(h.Slice(TarHeader.LinkNameOffset, TarHeader.LinkNameLength), linkBytes))
            PaxText("linkpath", linkBytes);

        TarHeader.WriteOctal(h.Slice(TarHeader.ModeOffset, TarHeader.ModeLength), entry.Mode & 0xFFF);
        PutId(h.Slice(TarHeader.UidOffset, TarHeader.UidLength), entry.Uid, "uid");
        PutId(h.Slice(TarHeader.GidOffset, TarHeader.GidLength), entry.Gid, "gid");
        if (size > TarHeader.MaxOctal11)
            PaxNumber("size", size);
        else
            TarHeader.WriteOctal(h.Slice(TarHeader.SizeOffset, TarHeader.SizeLength), size);

        long mtime = entry.MTimeSeconds;
        int nanos = entry.MTimeNanoseconds;
        if (nanos is < 0 or >= 1_000_000_000)
            throw StrataException.BadArgument($"invalid mtime nanoseconds {nanos} for tar entry {entry.Name}");
        if (nanos != 0 || mtime < 0 || mtime > TarHeader.MaxOctal11)
            PaxTime(mtime, nanos);
        long headerMTime = Math.Clamp(mtime, 0, TarHeader.MaxOctal11);
        TarHeader.WriteOctal(h.Slice(TarHeader.MTimeOffset, TarHeader.MTimeLength), headerMTime);

        h[TarHeader.TypeOffset] = (byte)entry.Type;
        TarHeader.UstarMagic.CopyTo(h[TarHeader.MagicOffset..]);
        "00"u8.CopyTo(h[(TarHeader.MagicOffset + 6)..]);
        PutOwnerName(h.Slice(TarHeader.UNameOffset, TarHeader.UNameLength), entry.UserName, "uname");
        PutOwnerName(h.Slice(TarHeader.GNameOffset, TarHeader.GNameLength), entry.GroupName, "gname");
        bool device = entry.Type is TarEntryType.CharDevice or TarEntryType.BlockDevice;
        PutDevice(h.Slice(TarHeader.DevMajorOffset, TarHeader.DevMajorLength), device ? entry.DevMajor : 0);
        PutDevice(h.Slice(TarHeader.DevMinorOffset, TarHeader.DevMinorLength), device ? entry.DevMinor : 0);

        if (entry.Xattrs.Count > 0)
        {
            var names = entry.Xattrs.Keys.ToArray();
            Array.Sort(names, StringComparer.Ordinal);
            foreach (string x in names)
                PaxHeader.AppendRecord(_pax, "SCHILY.xattr." + x, entry.Xattrs[x]);
        }

        if (_pax.WrittenCount > 0)
            WritePaxHeader(name, headerMTime);
        Seal(h);
        _stream.Write(_header);
        if (size > 0)
            CopyData(data!, size, entry.Name);
    }

    /// <summary>Writes the end-of-archive marker (two zero blocks) and flushes.</summary>
    public void Finish()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
            return;
        _finished = true;
        Span<byte> zeros = stackalloc byte[2 * Block];
        zeros.Clear();
        _stream.Write(zeros);
        _stream.Flush();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        try
        {
            Finish();
        }
        finally
        {
            _disposed = true;
            if (!_leaveOpen)
                _stream.Dispose();
        }
    }

    /// <summary>Name field, or the ustar prefix/name split exactly as GNU tar makes it.</summary>
    private static bool PutName(Span<byte> h, byte[] name)
    {
        if (!IsAscii(name))
        {
            PutTruncated(h.Slice(TarHeader.NameOffset, TarHeader.NameLength), name);
            return false;
        }
        if (name.Length <= TarHeader.NameLength)
        {
            name.CopyTo(h[TarHeader.NameOffset..]);
            return true;
        }
        // Split at the last '/' that leaves a prefix of at most 155 bytes; a directory's own trailing '/' does not count.
        int end = name.Length > TarHeader.PrefixLength + 1 ? TarHeader.PrefixLength + 1
            : name[^1] == (byte)'/' ? name.Length - 1 : name.Length;
        int i = name.AsSpan(0, end).LastIndexOf((byte)'/');
        int rest = name.Length - i - 1;
        if (i > 0 && rest is > 0 and <= TarHeader.NameLength)
        {
            name.AsSpan(0, i).CopyTo(h[TarHeader.PrefixOffset..]);
            name.AsSpan(i + 1).CopyTo(h[TarHeader.NameOffset..]);
            return true;
        }
        PutTruncated(h.Slice(TarHeader.NameOffset, TarHeader.NameLength), name);
        return false;
    }

    private static bool PutText(Span<byte> field, byte[] text)
    {
        if (text.Length <= field.Length && IsAscii(text))
        {
            text.CopyTo(field);
            return true;
        }
        PutTruncated(field, text);
        return false;
    }

    private static void PutTruncated(Span<byte> field, byte[] text) => text.AsSpan(0, Math.Min(text.Length, field.Length)).CopyTo(field);

    private void PutOwnerName(Span<byte> field, string? value, string key)
    {
        if (string.IsNullOrEmpty(value))
            return;
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        // ustar text fields need a terminating NUL to be read back by every implementation.
        if (bytes.Length < field.Length && IsAscii(bytes))
            bytes.CopyTo(field);
        else
            PaxText(key, bytes);
    }

    private void PutId(Span<byte> field, int id, string key)
    {
        if (id < 0)
            throw StrataException.BadArgument($"negative {key} {id}");
        if (id > TarHeader.MaxOctal7)
        {
            PaxNumber(key, id);
            TarHeader.WriteOctal(field, 0);
        }
        else
        {
            TarHeader.WriteOctal(field, id);
        }
    }

    // PAX has no device number keys; GNU tar and libarchive read base-256 here.
    private static void PutDevice(Span<byte> field, int value)
    {
        if (value is >= 0 and <= (int)TarHeader.MaxOctal7)
            TarHeader.WriteOctal(field, value);
        else
            TarHeader.WriteBase256(field, value);
    }

    private void PaxText(string key, byte[] value) => PaxHeader.AppendRecord(_pax, key, value);

    private void PaxNumber(string key, long value) =>
        PaxHeader.AppendRecord(_pax, key, Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture)));

    private void PaxTime(long seconds, int nanos)
    {
        string text = nanos == 0
            ? seconds.ToString(CultureInfo.InvariantCulture)
            : seconds >= 0
                ? string.Create(CultureInfo.InvariantCulture, $"{seconds}.{nanos:D9}")
                : string.Create(CultureInfo.InvariantCulture, $"-{-(seconds + 1)}.{1_000_000_000 - nanos:D9}");
        PaxHeader.AppendRecord(_pax, "mtime", Encoding.ASCII.GetBytes(text));
    }

    private void WritePaxHeader(string name, long mtime)
    {
        Span<byte> p = stackalloc byte[Block];
        p.Clear();
        string trimmed = name.TrimEnd('/');
        string baseName = trimmed[(trimmed.LastIndexOf('/') + 1)..];
        byte[] paxName = Encoding.UTF8.GetBytes("PaxHeaders.0/" + baseName);
        PutTruncated(p.Slice(TarHeader.NameOffset, TarHeader.NameLength), paxName);
        TarHeader.WriteOctal(p.Slice(TarHeader.ModeOffset, TarHeader.ModeLength), 0x1A4);   // 0644
        TarHeader.WriteOctal(p.Slice(TarHeader.UidOffset, TarHeader.UidLength), 0);
        TarHeader.WriteOctal(p.Slice(TarHeader.GidOffset, TarHeader.GidLength), 0);
        TarHeader.WriteOctal(p.Slice(TarHeader.SizeOffset, TarHeader.SizeLength), _pax.WrittenCount);
        TarHeader.WriteOctal(p.Slice(TarHeader.MTimeOffset, TarHeader.MTimeLength), mtime);
        p[TarHeader.TypeOffset] = (byte)'x';
        TarHeader.UstarMagic.CopyTo(p[TarHeader.MagicOffset..]);
        "00"u8.CopyTo(p[(TarHeader.MagicOffset + 6)..]);
        TarHeader.WriteOctal(p.Slice(TarHeader.DevMajorOffset, TarHeader.DevMajorLength), 0);
        TarHeader.WriteOctal(p.Slice(TarHeader.DevMinorOffset, TarHeader.DevMinorLength), 0);
        Seal(p);
        _stream.Write(p);
        _stream.Write(_pax.WrittenSpan);
        WritePadding(_pax.WrittenCount);
    }

    private static void Seal(Span<byte> h)
    {
        var field = h.Slice(TarHeader.ChecksumOffset, TarHeader.ChecksumLength);
        TarHeader.WriteOctal(field[..7], TarHeader.ComputeChecksum(h));
        field[7] = (byte)' ';
    }

    private void CopyData(Stream data, long size, string name)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            long left = size;
            while (left > 0)
            {
                int n = data.Read(buffer, 0, (int)Math.Min(left, buffer.Length));
                if (n == 0)
                    throw StrataException.BadArgument($"data for tar entry {name} ended after {size - left} of {size} bytes");
                _stream.Write(buffer, 0, n);
                left -= n;
            }
            if (data.Read(buffer, 0, 1) != 0)
                throw StrataException.BadArgument($"data for tar entry {name} is longer than its size {size}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        WritePadding(size);
    }

    private void WritePadding(long size)
    {
        int pad = (int)((Block - (size % Block)) % Block);
        if (pad == 0)
            return;
        Span<byte> zeros = stackalloc byte[Block];
        zeros.Clear();
        _stream.Write(zeros[..pad]);
    }

    private static bool IsAscii(ReadOnlySpan<byte> bytes) => System.Text.Ascii.IsValid(bytes) && !bytes.Contains((byte)0);
}
