using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Strata.Errors;

namespace Strata.Archive.Tar;

/// <summary>
/// The records of one PAX extended header ('x'), kept as bytes: values are "LEN KEY=VALUE\n" with a byte
/// length, so xattr values may hold any byte, NUL and newline included.
/// </summary>
internal sealed class PaxHeader
{
    private const string XattrPrefix = "SCHILY.xattr.";
    private const string LibarchiveXattrPrefix = "LIBARCHIVE.xattr.";

    public string? Path, LinkPath, UserName, GroupName;
    public long? Size, Uid, Gid, MTimeSeconds;
    public int MTimeNanoseconds;
    public List<KeyValuePair<string, byte[]>>? Xattrs;

    // GNU sparse, all three PAX flavours.
    public string? SparseName;
    public long? SparseRealSize;
    public int SparseMajor = -1, SparseMinor = -1;
    public List<long>? SparseOffsetsAndSizes;   // 0.0: alternating offset/numbytes records; 0.1: the map record

    public bool IsSparse => SparseOffsetsAndSizes != null || SparseMajor >= 1;

    public static PaxHeader Parse(ReadOnlySpan<byte> data, long headerOffset)
    {
        var pax = new PaxHeader();
        int pos = 0;
        while (pos < data.Length)
        {
            // Writers pad the data block with NULs after the last record.
            if (data[pos] == 0)
                break;
            var rest = data[pos..];
            int space = rest.IndexOf((byte)' ');
            if (space <= 0 || !Utf8Parser.TryParse(rest[..space], out int length, out int used) || used != space
                || length <= space + 2 || length > rest.Length || rest[length - 1] != (byte)'\n')
                throw Bad(headerOffset);
            var record = rest[(space + 1)..(length - 1)];
            int eq = record.IndexOf((byte)'=');
            if (eq <= 0)
                throw Bad(headerOffset);
            pax.Apply(Encoding.UTF8.GetString(record[..eq]), record[(eq + 1)..], headerOffset);
            pos += length;
        }
        return pax;
    }

    private void Apply(string key, ReadOnlySpan<byte> value, long headerOffset)
    {
        switch (key)
        {
            case "path": Path = Str(value); break;
            case "linkpath": LinkPath = Str(value); break;
            case "uname": UserName = Str(value); break;
            case "gname": GroupName = Str(value); break;
            case "size": Size = Num(value, headerOffset); break;
            case "uid": Uid = Num(value, headerOffset); break;
            case "gid": Gid = Num(value, headerOffset); break;
            case "mtime": ParseTime(value, headerOffset); break;
            case "GNU.sparse.name": SparseName = Str(value); break;
            case "GNU.sparse.size":
            case "GNU.sparse.realsize": SparseRealSize = Num(value, headerOffset); break;
            case "GNU.sparse.major": SparseMajor = (int)Math.Min(Num(value, headerOffset), int.MaxValue); break;
            case "GNU.sparse.minor": SparseMinor = (int)Math.Min(Num(value, headerOffset), int.MaxValue); break;
            case "GNU.sparse.offset":
            case "GNU.sparse.numbytes":
                // 0.0 repeats these two keys in order; a well-formed list alternates offset, numbytes.
                SparseOffsetsAndSizes ??= [];
                if ((SparseOffsetsAndSizes.Count % 2 == 0) != (key == "GNU.sparse.offset"))
                    throw Bad(headerOffset);
                SparseOffsetsAndSizes.Add(Num(value, headerOffset));
                break;
            case "GNU.sparse.map": ParseMap(value, headerOffset); break;
            default:
                if (key.StartsWith(XattrPrefix, StringComparison.Ordinal) && key.Length > XattrPrefix.Length)
                    SetXattr(key[XattrPrefix.Length..], value.ToArray());
                else if (key.StartsWith(LibarchiveXattrPrefix, StringComparison.Ordinal))
                    ApplyLibarchiveXattr(key[LibarchiveXattrPrefix.Length..], value);
                break;
        }
    }

    private void SetXattr(string name, byte[] value)
    {
        Xattrs ??= [];
        for (int i = 0; i < Xattrs.Count; i++)
        {
            if (Xattrs[i].Key == name)
            {
                Xattrs[i] = new(name, value);
                return;
            }
        }
        Xattrs.Add(new(name, value));
    }

    // bsdtar writes LIBARCHIVE.xattr.<url-encoded name>=<base64> next to SCHILY.xattr; SCHILY wins when both exist.
    private void ApplyLibarchiveXattr(string encodedName, ReadOnlySpan<byte> value)
    {
        string name = Uri.UnescapeDataString(encodedName);
        if (name.Length == 0 || (Xattrs?.Exists(x => x.Key == name) ?? false))
            return;
        SetXattr(name, DecodeLibarchiveBase64(value));
    }

    /// <summary>
    /// Base64 as libarchive's tar reader decodes it: bsdtar writes it without padding, so '=' (or '_') only ends
    /// the value, characters outside the alphabet are skipped, and a lone trailing character yields nothing.
    /// </summary>
    internal static byte[] DecodeLibarchiveBase64(ReadOnlySpan<byte> value)
    {
        var output = new byte[value.Length * 3 / 4 + 3];
        int written = 0, bits = 0, count = 0;
        foreach (byte c in value)
        {
            if (c is (byte)'=' or (byte)'_')
                break;
            int digit = c switch
            {
                >= (byte)'A' and <= (byte)'Z' => c - 'A',
                >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
                >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
                (byte)'+' => 62,
                (byte)'/' => 63,
                _ => -1,
            };
            if (digit < 0)
                continue;
            bits = (bits << 6) | digit;
            if (++count == 4)
            {
                output[written++] = (byte)(bits >> 16);
                output[written++] = (byte)(bits >> 8);
                output[written++] = (byte)bits;
                bits = count = 0;
            }
        }
        // A final group of 2 or 3 characters holds 1 or 2 bytes.
        if (count >= 2)
        {
            bits <<= 6 * (4 - count);
            output[written++] = (byte)(bits >> 16);
            if (count == 3)
                output[written++] = (byte)(bits >> 8);
        }
        return output[..written];
    }

    private void ParseMap(ReadOnlySpan<byte> value, long headerOffset)
    {
        SparseOffsetsAndSizes = [];
        if (value.IsEmpty)
            return;
        foreach (var range in value.Split((byte)','))
            SparseOffsetsAndSizes.Add(Num(value[range], headerOffset));
        if (SparseOffsetsAndSizes.Count % 2 != 0)
            throw Bad(headerOffset);
    }

    private void ParseTime(ReadOnlySpan<byte> value, long headerOffset)
    {
        bool negative = !value.IsEmpty && value[0] == (byte)'-';
        var digits = negative ? value[1..] : value;
        int dot = digits.IndexOf((byte)'.');
        long seconds = Num(dot < 0 ? digits : digits[..dot], headerOffset);
        int nanos = 0;
        if (dot >= 0)
        {
            var frac = digits[(dot + 1)..];
            for (int i = 0; i < 9; i++)
            {
                int d = 0;
                if (i < frac.Length)
                {
                    if (frac[i] is < (byte)'0' or > (byte)'9')
                        throw Bad(headerOffset);
                    d = frac[i] - '0';
                }
                nanos = nanos * 10 + d;
            }
        }
        if (negative && nanos != 0)
        {
            // -1.25 is 1.25 s before the epoch: seconds -2, plus 0.75 s.
            seconds += 1;
            nanos = 1_000_000_000 - nanos;
        }
        MTimeSeconds = negative ? -seconds : seconds;
        MTimeNanoseconds = nanos;
    }

    private static string Str(ReadOnlySpan<byte> value) => Encoding.UTF8.GetString(value);

    private static long Num(ReadOnlySpan<byte> value, long headerOffset)
    {
        if (value.IsEmpty || !Utf8Parser.TryParse(value, out long v, out int used) || used != value.Length || v < 0)
            throw Bad(headerOffset);
        return v;
    }

    private static StrataException Bad(long headerOffset) =>
        StrataException.Invalid($"invalid tar header at offset {headerOffset}: malformed PAX record");

    /// <summary>Appends one "LEN KEY=VALUE\n" record; LEN counts its own digits.</summary>
    public static void AppendRecord(ArrayBufferWriter<byte> output, string key, ReadOnlySpan<byte> value)
    {
        int keyBytes = Encoding.UTF8.GetByteCount(key);
        int body = 1 + keyBytes + 1 + value.Length + 1;
        int length = body + 1;
        while (length != body + CountDigits(length))
            length = body + CountDigits(length);
        var span = output.GetSpan(length);
        int pos = 0;
        Utf8Formatter.TryFormat(length, span, out int written);
        pos += written;
        span[pos++] = (byte)' ';
        pos += Encoding.UTF8.GetBytes(key, span[pos..]);
        span[pos++] = (byte)'=';
        value.CopyTo(span[pos..]);
        pos += value.Length;
        span[pos++] = (byte)'\n';
        output.Advance(pos);
    }

    private static int CountDigits(int n) => n < 10 ? 1 : 1 + CountDigits(n / 10);
}
