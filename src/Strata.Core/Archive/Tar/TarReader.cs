using System.Buffers;
using System.Text;
using Strata.Errors;

namespace Strata.Archive.Tar;

/// <summary>
/// Streaming reader of v7, ustar, PAX and GNU tar archives, including binary xattrs and GNU sparse files,
/// which System.Formats.Tar cannot represent. Entry data is never buffered: each entry's Data reads straight
/// from the underlying stream, and whatever is left unread is skipped by the next call to <see cref="Next"/>.
/// </summary>
internal sealed class TarReader : IDisposable
{
    private const int Block = TarHeader.BlockSize;
    private const int MaxMetaSize = 1 << 20;    // PAX/GNU long-name data is buffered: Go's and libarchive's bound

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _header = new byte[Block];
    private long _position;
    private long _dataRemaining;   // stored bytes of the current entry not yet read
    private long _padding;         // zero fill after them, up to the block boundary
    private int _generation;
    private string _currentName = "";
    private bool _ended, _disposed;

    public TarReader(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Bytes consumed from the underlying stream so far.</summary>
    public long Position => _position;

    public IEnumerable<TarEntry> Entries()
    {
        while (Next() is { } entry)
            yield return entry;
    }

    /// <summary>The next entry, or null after the end-of-archive marker (or a clean EOF on a header boundary).</summary>
    public TarEntry? Next()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended)
            return null;
        SkipCurrent();

        PaxHeader? pax = null;
        string? longName = null, longLink = null;
        while (true)
        {
            long offset = _position;
            int n = ReadFull(_header);
            bool pendingMeta = pax != null || longName != null || longLink != null;
            if (n == 0 && !pendingMeta)
            {
                _ended = true;
                return null;
            }
            if (n < Block)
                throw Truncated(pendingMeta ? longName ?? pax?.Path ?? "(extended header)" : $"(header at offset {offset})");
            if (TarHeader.IsZeroBlock(_header))
            {
                if (pendingMeta)
                    throw Invalid(offset);
                // The second zero block is optional in practice; a lone one followed by EOF is accepted too.
                ReadFull(_header);
                _ended = true;
                return null;
            }
            if (!TarHeader.ChecksumMatches(_header))
                throw Invalid(offset);

            byte type = _header[TarHeader.TypeOffset];
            long size = Number(TarHeader.SizeOffset, TarHeader.SizeLength, offset);
            if (size < 0)
                throw Invalid(offset);
            switch (type)
            {
                case (byte)'x':
                    pax = PaxHeader.Parse(ReadMeta(size, offset), offset);
                    continue;
                case (byte)'g':
                    BeginData(size, "(global header)");
                    SkipCurrent();
                    continue;
                case (byte)'L':
                    longName = MetaText(size, offset);
                    continue;
                case (byte)'K':
                    longLink = MetaText(size, offset);
                    continue;
            }
            return BuildEntry(type, size, offset, pax, longName, longLink);
        }
    }

    /// <summary>Reads and discards everything left in the stream, end marker and trailing bytes included.</summary>
    public void DrainToEnd()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (Next() != null)
        {
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int n;
            while ((n = _stream.Read(buffer)) > 0)
                _position += n;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _generation++;
        if (!_leaveOpen)
            _stream.Dispose();
    }

    private TarEntry BuildEntry(byte type, long size, long offset, PaxHeader? pax, string? longName, string? longLink)
    {
        ReadOnlySpan<byte> h = _header;
        var magic = h.Slice(TarHeader.MagicOffset, 8);
        bool gnu = magic.SequenceEqual(TarHeader.GnuMagic);
        bool ustar = !gnu && magic[..6].SequenceEqual(TarHeader.UstarMagic);

        string rawName = pax?.SparseName ?? pax?.Path ?? longName ?? HeaderName(h, ustar);
        var entry = new TarEntry
        {
            Name = NormalizeName(rawName),
            LinkName = pax?.LinkPath ?? longLink ?? Utf8(TarHeader.Text(h.Slice(TarHeader.LinkNameOffset, TarHeader.LinkNameLength))),
            Mode = (int)(Number(TarHeader.ModeOffset, TarHeader.ModeLength, offset) & 0xFFF),
            Uid = Id(pax?.Uid ?? Number(TarHeader.UidOffset, TarHeader.UidLength, offset), offset),
            Gid = Id(pax?.Gid ?? Number(TarHeader.GidOffset, TarHeader.GidLength, offset), offset),
            MTimeSeconds = pax?.MTimeSeconds ?? Number(TarHeader.MTimeOffset, TarHeader.MTimeLength, offset),
            MTimeNanoseconds = pax?.MTimeSeconds != null ? pax.MTimeNanoseconds : 0,
        };
        // A hard link names another entry of the archive: the same normalisation as names applies.
        if (type == (byte)TarEntryType.HardLink) entry.LinkName = NormalizeName(entry.LinkName);
        _currentName = entry.Name;
        if (ustar || gnu)
        {
            entry.UserName = pax?.UserName ?? NullIfEmpty(TarHeader.Text(h.Slice(TarHeader.UNameOffset, TarHeader.UNameLength)));
            entry.GroupName = pax?.GroupName ?? NullIfEmpty(TarHeader.Text(h.Slice(TarHeader.GNameOffset, TarHeader.GNameLength)));
        }
        if (pax?.Xattrs != null)
        {
            foreach (var (name, value) in pax.Xattrs)
                entry.Xattrs[name] = value;
        }
        if (pax?.Size is { } paxSize)
            size = paxSize;

        // Old archives mark directories only by a trailing slash.
        if (type is (byte)'0' or 0 or (byte)'7' && rawName.EndsWith('/'))
            type = (byte)'5';
        switch (type)
        {
            case (byte)'0' or 0 or (byte)'7':
                entry.Type = TarEntryType.Regular;
                if (pax?.IsSparse == true)
                    return SparseFromPax(entry, pax, size, offset);
                entry.Size = size;
                entry.Data = BeginData(size, entry.Name);
                return entry;
            case (byte)'S':
                entry.Type = TarEntryType.Regular;
                return SparseFromGnu(entry, size, offset);
            case (byte)'1':
                entry.Type = TarEntryType.HardLink;
                break;
            case (byte)'2':
                entry.Type = TarEntryType.Symlink;
                break;
            case (byte)'3' or (byte)'4':
                entry.Type = type == '3' ? TarEntryType.CharDevice : TarEntryType.BlockDevice;
                entry.DevMajor = Id(Number(TarHeader.DevMajorOffset, TarHeader.DevMajorLength, offset), offset);
                entry.DevMinor = Id(Number(TarHeader.DevMinorOffset, TarHeader.DevMinorLength, offset), offset);
                break;
            case (byte)'5':
                entry.Type = TarEntryType.Directory;
                break;
            case (byte)'D':
                // A GNU dumpdir stores its file list as data: skip it.
                entry.Type = TarEntryType.Directory;
                BeginData(size, entry.Name);
                return entry;
            case (byte)'6':
                entry.Type = TarEntryType.Fifo;
                break;
            default:
                throw StrataException.Unsupported(
                    $"unsupported tar entry type '{(char)type}' for {entry.Name} at offset {offset}");
        }
        // Header-only types have no data whatever their size field says (Go's isHeaderOnlyType; bsdtar
        // likewise): skipping it would swallow the entries that follow.
        BeginData(0, entry.Name);
        return entry;
    }

    private TarEntry SparseFromGnu(TarEntry entry, long stored, long offset)
    {
        var map = new List<(long, long)>();
        ReadGnuSparse(_header.AsSpan(TarHeader.GnuSparseOffset, 4 * 24), map, offset);
        long realSize = Number(TarHeader.GnuRealSizeOffset, 12, offset);
        bool extended = _header[TarHeader.GnuIsExtendedOffset] != 0;
        byte[] ext = new byte[Block];
        while (extended)
        {
            long extOffset = _position;
            if (ReadFull(ext) < Block)
                throw Truncated(entry.Name);
            ReadGnuSparse(ext.AsSpan(0, TarHeader.GnuSparseExtEntries * 24), map, extOffset);
            extended = ext[TarHeader.GnuSparseExtIsExtendedOffset] != 0;
        }
        return FinishSparse(entry, map, realSize, stored, offset);
    }

    private static void ReadGnuSparse(ReadOnlySpan<byte> entries, List<(long, long)> map, long offset)
    {
        for (int i = 0; i + 24 <= entries.Length; i += 24)
        {
            if (entries[i] == 0)
                return;
            if (!TarHeader.TryParseNumber(entries.Slice(i, 12), out long off)
                || !TarHeader.TryParseNumber(entries.Slice(i + 12, 12), out long len))
                throw Invalid(offset);
            map.Add((off, len));
        }
    }

    private TarEntry SparseFromPax(TarEntry entry, PaxHeader pax, long stored, long offset)
    {
        long realSize = pax.SparseRealSize ?? throw Invalid(offset);
        var map = new List<(long, long)>();
        if (pax.SparseMajor == 1)
        {
            if (pax.SparseMinor != 0)
                throw StrataException.Unsupported($"unsupported GNU sparse format 1.{pax.SparseMinor} for {entry.Name}");
            // 1.0 keeps the map in decimal lines at the start of the data, padded to a block.
            BeginData(stored, entry.Name);
            long mapBytes = ReadSparseMap10(map, entry.Name, offset);
            stored -= mapBytes;
            return FinishSparse(entry, map, realSize, stored, offset, dataBegun: true);
        }
        var list = pax.SparseOffsetsAndSizes!;
        for (int i = 0; i + 1 < list.Count; i += 2)
            map.Add((list[i], list[i + 1]));
        return FinishSparse(entry, map, realSize, stored, offset);
    }

    private long ReadSparseMap10(List<(long, long)> map, string name, long offset)
    {
        byte[] block = new byte[Block];
        int blockPos = Block;
        long consumed = 0;
        long count = -1;
        var numbers = new List<long>();
        Span<byte> digits = stackalloc byte[24];
        while (count < 0 || numbers.Count < 2 * count)
        {
            int len = 0;
            while (true)
            {
                if (blockPos == Block)
                {
                    if (_dataRemaining < Block || ReadEntryData(_generation, block) < Block)
                        throw Truncated(name);
                    consumed += Block;
                    blockPos = 0;
                }
                byte b = block[blockPos++];
                if (b == (byte)'\n')
                    break;
                if (b is < (byte)'0' or > (byte)'9' || len == digits.Length)
                    throw Invalid(offset);
                digits[len++] = b;
            }
            if (len == 0 || !System.Buffers.Text.Utf8Parser.TryParse(digits[..len], out long v, out _) || v < 0)
                throw Invalid(offset);
            if (count < 0)
            {
                if (v > int.MaxValue / 2)
                    throw Invalid(offset);
                count = v;
            }
            else
            {
                numbers.Add(v);
            }
        }
        for (int i = 0; i < numbers.Count; i += 2)
            map.Add((numbers[i], numbers[i + 1]));
        return consumed;
    }

    private TarEntry FinishSparse(TarEntry entry, List<(long Offset, long Length)> map, long realSize, long stored,
        long offset, bool dataBegun = false)
    {
        long end = 0, total = 0;
        var regions = new List<(long Offset, long Length)>(map.Count);
        foreach (var (off, len) in map)
        {
            if (off < end || len < 0 || off > realSize || len > realSize - off)
                throw StrataException.Invalid($"invalid sparse map for {entry.Name} in tar header at offset {offset}");
            end = off + len;
            total += len;
            if (len > 0)
                regions.Add((off, len));
        }
        if (total != stored)
            throw StrataException.Invalid($"invalid sparse map for {entry.Name} in tar header at offset {offset}: "
                + $"regions hold {total} bytes, archive stores {stored}");
        if (!dataBegun)
            BeginData(stored, entry.Name);
        entry.Size = realSize;
        entry.SparseMap = regions;
        entry.Data = new SparseStream(new TarEntryStream(this, _generation, stored), regions, realSize);
        return entry;
    }

    /// <summary>Makes <paramref name="size"/> stored bytes (plus block padding) the current entry's data.</summary>
    private TarEntryStream BeginData(long size, string name)
    {
        _generation++;
        _currentName = name;
        _dataRemaining = size;
        _padding = (Block - (size % Block)) % Block;
        return new TarEntryStream(this, _generation, size);
    }

    internal int ReadEntryData(int generation, Span<byte> buffer)
    {
        if (generation != _generation || _disposed)
            throw new InvalidOperationException("tar entry data is no longer readable: the reader has moved on");
        if (_dataRemaining == 0 || buffer.IsEmpty)
            return 0;
        if (buffer.Length > _dataRemaining)
            buffer = buffer[..(int)_dataRemaining];
        int n = _stream.Read(buffer);
        if (n == 0)
            throw Truncated(_currentName);
        _position += n;
        _dataRemaining -= n;
        return n;
    }

    private void SkipCurrent()
    {
        long skip = _dataRemaining + _padding;
        _generation++;
        _dataRemaining = _padding = 0;
        if (skip == 0)
            return;
        if (_stream.CanSeek)
        {
            if (_stream.Length - _stream.Position < skip)
                throw Truncated(_currentName);
            _stream.Seek(skip, SeekOrigin.Current);
            _position += skip;
            return;
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(skip, 64 * 1024));
        try
        {
            while (skip > 0)
            {
                int n = _stream.Read(buffer, 0, (int)Math.Min(skip, buffer.Length));
                if (n == 0)
                    throw Truncated(_currentName);
                _position += n;
                skip -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private byte[] ReadMeta(long size, long offset)
    {
        if (size > MaxMetaSize)
            throw StrataException.Invalid($"invalid tar header at offset {offset}: extended header of {size} bytes");
        byte[] data = new byte[size];
        BeginData(size, "(extended header)");
        int read = 0;
        while (read < data.Length)
            read += ReadEntryData(_generation, data.AsSpan(read));
        SkipCurrent();
        return data;
    }

    private string MetaText(long size, long offset) => Utf8(TarHeader.Text(ReadMeta(size, offset)));

    private int ReadFull(Span<byte> buffer)
    {
        int total = _stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        _position += total;
        return total;
    }

    private long Number(int fieldOffset, int length, long headerOffset) =>
        TarHeader.TryParseNumber(_header.AsSpan(fieldOffset, length), out long v) ? v : throw Invalid(headerOffset);

    private static int Id(long value, long headerOffset) =>
        value is >= 0 and <= int.MaxValue ? (int)value
            : throw StrataException.Invalid($"invalid tar header at offset {headerOffset}: id {value} out of range");

    private static string HeaderName(ReadOnlySpan<byte> h, bool ustar)
    {
        var name = TarHeader.Text(h.Slice(TarHeader.NameOffset, TarHeader.NameLength));
        var prefix = ustar ? TarHeader.Text(h.Slice(TarHeader.PrefixOffset, TarHeader.PrefixLength)) : default;
        return prefix.IsEmpty ? Utf8(name) : Utf8(prefix) + "/" + Utf8(name);
    }

    /// <summary>Relative, without leading "/" or "./" and trailing "/"; the root is ".". ".." is kept for the applier to refuse.</summary>
    internal static string NormalizeName(string name)
    {
        var s = name.AsSpan();
        while (true)
        {
            if (s.StartsWith("/"))
                s = s[1..];
            else if (s.StartsWith("./"))
                s = s[2..];
            else
                break;
        }
        s = s.TrimEnd('/');
        if (s.IsEmpty || s is ".")
            return ".";
        return s.Length == name.Length ? name : s.ToString();
    }

    private static string Utf8(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? "" : Encoding.UTF8.GetString(bytes);

    private static string? NullIfEmpty(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? null : Encoding.UTF8.GetString(bytes);

    private static StrataException Invalid(long offset) => StrataException.Invalid($"invalid tar header at offset {offset}");

    private StrataException Truncated(string name) =>
        StrataException.Invalid($"truncated tar archive in entry {name} at offset {_position}");
}
