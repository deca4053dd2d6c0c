namespace Strata.Archive.Compression;

/// <summary>CRC-32 (IEEE, reflected), slicing-by-8, for checking gzip member trailers.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        for (int i = 0; i < 256; i++)
        {
            for (int s = 1; s < 8; s++)
                t[s * 256 + i] = (t[(s - 1) * 256 + i] >> 8) ^ t[t[(s - 1) * 256 + i] & 0xff];
        }
        return t;
    }

    /// <summary>Continues a CRC; start from 0, the result is the final CRC.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        var t = Table.AsSpan();
        while (data.Length >= 8)
        {
            uint a = c ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data);
            uint b = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            c = t[7 * 256 + (int)(a & 0xff)] ^ t[6 * 256 + (int)((a >> 8) & 0xff)]
                ^ t[5 * 256 + (int)((a >> 16) & 0xff)] ^ t[4 * 256 + (int)(a >> 24)]
                ^ t[3 * 256 + (int)(b & 0xff)] ^ t[2 * 256 + (int)((b >> 8) & 0xff)]
                ^ t[256 + (int)((b >> 16) & 0xff)] ^ t[(int)(b >> 24)];
            data = data[8..];
        }
        foreach (byte x in data)
            c = t[(int)((c ^ x) & 0xff)] ^ (c >> 8);
        return ~c;
    }
}
