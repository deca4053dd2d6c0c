using System.Buffers.Binary;

namespace Strata.Archive.Tar;

/// <summary>Field layout and number coding of a 512-byte tar header block (v7, ustar, GNU).</summary>
internal static class TarHeader
{
    public const int BlockSize = 512;

    public const int NameOffset = 0, NameLength = 100;
    public const int ModeOffset = 100, ModeLength = 8;
    public const int UidOffset = 108, UidLength = 8;
    public const int GidOffset = 116, GidLength = 8;
    public const int SizeOffset = 124, SizeLength = 12;
    public const int MTimeOffset = 136, MTimeLength = 12;
    public const int ChecksumOffset = 148, ChecksumLength = 8;
    public const int TypeOffset = 156;
    public const int LinkNameOffset = 157, LinkNameLength = 100;
    public const int MagicOffset = 257;
    public const int UNameOffset = 265, UNameLength = 32;
    public const int GNameOffset = 297, GNameLength = 32;
    public const int DevMajorOffset = 329, DevMajorLength = 8;
    public const int DevMinorOffset = 337, DevMinorLength = 8;
    public const int PrefixOffset = 345, PrefixLength = 155;

    // GNU old sparse ('S'): four (offset, numbytes) pairs in the header, more in extension blocks.
    public const int GnuSparseOffset = 386;
    public const int GnuIsExtendedOffset = 482;
    public const int GnuRealSizeOffset = 483;
    public const int GnuSparseExtEntries = 21;
    public const int GnuSparseExtIsExtendedOffset = 504;

    public const long MaxOctal7 = 0x1FFFFF;          // 07777777
    public const long MaxOctal11 = 0x1FFFFFFFF;      // 077777777777

    public static ReadOnlySpan<byte> UstarMagic => "ustar\0"u8;
    public static ReadOnlySpan<byte> GnuMagic => "ustar  \0"u8;

    public static bool IsZeroBlock(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);

    /// <summary>Sum with the checksum field read as spaces; historic writers summed signed bytes, so both count.</summary>
    public static bool ChecksumMatches(ReadOnlySpan<byte> block)
    {
        if (!TryParseNumber(block.Slice(ChecksumOffset, ChecksumLength), out long stored))
            return false;
        long unsignedSum = 0, signedSum = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            byte b = i is >= ChecksumOffset and < ChecksumOffset + ChecksumLength ? (byte)' ' : block[i];
            unsignedSum += b;
            signedSum += (sbyte)b;
        }
        return stored == unsignedSum || stored == signedSum;
    }

    public static int ComputeChecksum(ReadOnlySpan<byte> block)
    {
        int sum = 0;
        for (int i = 0; i < BlockSize; i++)
            sum += i is >= ChecksumOffset and < ChecksumOffset + ChecksumLength ? ' ' : block[i];
        return sum;
    }

    /// <summary>
    /// Octal (leading spaces or NULs, ended by space or NUL), or GNU base-256 when the high bit of the
    /// first byte is set (0xff marks a negative two's-complement number). An all-blank field is zero.
    /// </summary>
    public static bool TryParseNumber(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        if (field.IsEmpty)
            return true;
        byte first = field[0];
        if ((first & 0x80) != 0)
            return TryParseBase256(field, out value);

        int i = 0;
        while (i < field.Length && (field[i] == (byte)' ' || field[i] == 0))
            i++;
        long v = 0;
        for (; i < field.Length; i++)
        {
            byte b = field[i];
            if (b is (byte)' ' or 0)
                break;
            if (b is < (byte)'0' or > (byte)'7' || v > (long.MaxValue >> 3))
                return false;
            v = (v << 3) | (uint)(b - '0');
        }
        // Only terminators may follow the digits.
        for (; i < field.Length; i++)
        {
            if (field[i] is not ((byte)' ' or 0))
                return false;
        }
        value = v;
        return true;
    }

    private static bool TryParseBase256(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        bool negative = field[0] == 0xff;
        long v = negative ? -1 : field[0] & 0x7f;
        for (int i = 1; i < field.Length; i++)
        {
            // Refuse anything that does not fit a long.
            long top = v >> 55;
            if (negative ? top != -1 : top != 0)
                return false;
            v = (v << 8) | field[i];
        }
        value = v;
        return true;
    }

    /// <summary>Zero-padded octal filling all but the last byte, which is NUL (GNU tar's layout).</summary>
    public static void WriteOctal(Span<byte> field, long value)
    {
        int digits = field.Length - 1;
        field[digits] = 0;
        for (int i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }
    }

    /// <summary>GNU base-256: high bit set on the first byte, big-endian two's complement after it.</summary>
    public static void WriteBase256(Span<byte> field, long value)
    {
        field.Fill(value < 0 ? (byte)0xff : (byte)0);
        BinaryPrimitives.WriteInt64BigEndian(field[^8..], value);
        if (value >= 0)
            field[0] |= 0x80;
    }

    /// <summary>The bytes of a NUL-terminated (or full-width) text field.</summary>
    public static ReadOnlySpan<byte> Text(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return nul < 0 ? field : field[..nul];
    }
}
