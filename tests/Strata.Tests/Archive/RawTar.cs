using System.Text;
using Strata.Archive.Tar;

namespace Strata.Tests.Archive;

/// <summary>Tar bytes made header by header, for the odd archives that no tool here writes.</summary>
internal static class RawTar
{
    /// <summary>One header block; <paramref name="ustar"/> false makes a V7 header (no magic, no owner names).</summary>
    public static byte[] Header(string name, char type, long size = 0, string link = "", bool ustar = true, int mode = 0b110_100_100) =>
        Header(Encoding.UTF8.GetBytes(name), type, size, link, ustar, mode);

    public static byte[] Header(ReadOnlySpan<byte> name, char type, long size = 0, string link = "", bool ustar = true, int mode = 0b110_100_100)
    {
        var h = new byte[TarHeader.BlockSize];
        name.CopyTo(h.AsSpan(TarHeader.NameOffset, TarHeader.NameLength));
        TarHeader.WriteOctal(h.AsSpan(TarHeader.ModeOffset, TarHeader.ModeLength), mode);
        TarHeader.WriteOctal(h.AsSpan(TarHeader.UidOffset, TarHeader.UidLength), 0);
        TarHeader.WriteOctal(h.AsSpan(TarHeader.GidOffset, TarHeader.GidLength), 0);
        TarHeader.WriteOctal(h.AsSpan(TarHeader.SizeOffset, TarHeader.SizeLength), size);
        TarHeader.WriteOctal(h.AsSpan(TarHeader.MTimeOffset, TarHeader.MTimeLength), 1_000_000_000);
        h[TarHeader.TypeOffset] = (byte)type;
        Encoding.UTF8.GetBytes(link).CopyTo(h.AsSpan(TarHeader.LinkNameOffset, TarHeader.LinkNameLength));
        if (ustar)
        {
            TarHeader.UstarMagic.CopyTo(h.AsSpan(TarHeader.MagicOffset));
            "00"u8.CopyTo(h.AsSpan(TarHeader.MagicOffset + 6));
            TarHeader.WriteOctal(h.AsSpan(TarHeader.DevMajorOffset, TarHeader.DevMajorLength), 0);
            TarHeader.WriteOctal(h.AsSpan(TarHeader.DevMinorOffset, TarHeader.DevMinorLength), 0);
        }
        TarHeader.WriteOctal(h.AsSpan(TarHeader.ChecksumOffset, 7), TarHeader.ComputeChecksum(h));
        h[TarHeader.ChecksumOffset + 7] = (byte)' ';
        return h;
    }

    /// <summary>Content padded with zeros to the next block boundary.</summary>
    public static byte[] Data(ReadOnlySpan<byte> content)
    {
        var d = new byte[(content.Length + TarHeader.BlockSize - 1) / TarHeader.BlockSize * TarHeader.BlockSize];
        content.CopyTo(d);
        return d;
    }

    /// <summary>A PAX extended header ('x') holding the given records.</summary>
    public static byte[] Pax(params (string Key, string Value)[] records)
    {
        var body = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var (key, value) in records)
            PaxHeader.AppendRecord(body, key, Encoding.UTF8.GetBytes(value));
        return [.. Header("PaxHeaders/x", 'x', body.WrittenCount), .. Data(body.WrittenSpan)];
    }

    public static byte[] End => new byte[2 * TarHeader.BlockSize];

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
