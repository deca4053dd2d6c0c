using System.Runtime.InteropServices;
using System.Text;
using static Strata.Fuse.FuseProtocol;

namespace Strata.Fuse;

/// <summary>Packs fuse_dirent / fuse_direntplus records (8-byte aligned) into a reply buffer of the size the kernel asked for.</summary>
internal ref struct DirentBuffer(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;

    public int Length { get; private set; }

    public readonly bool Fits(string name, bool plus) =>
        Length + ((plus ? Marshal.SizeOf<EntryOut>() : 0) + Marshal.SizeOf<Dirent>() + Encoding.UTF8.GetByteCount(name) + 7 & ~7) <= _buffer.Length;

    /// <summary>False when the record does not fit (the kernel asks again from <paramref name="nextOffset"/>).</summary>
    public bool Add(string name, ulong ino, uint type, long nextOffset, in EntryOut? plus = null)
    {
        int nameLen = Encoding.UTF8.GetByteCount(name);
        int head = (plus is null ? 0 : Marshal.SizeOf<EntryOut>()) + Marshal.SizeOf<Dirent>();
        int size = (head + nameLen + 7) & ~7;
        if (Length + size > _buffer.Length) return false;
        var record = _buffer.Slice(Length, size);
        record.Clear();
        int at = 0;
        if (plus is { } e)
        {
            MemoryMarshal.Write(record, in e);
            at = Marshal.SizeOf<EntryOut>();
        }
        var dirent = new Dirent { Ino = ino, Off = (ulong)nextOffset, NameLen = (uint)nameLen, Type = type };
        MemoryMarshal.Write(record[at..], in dirent);
        Encoding.UTF8.GetBytes(name, record[(at + Marshal.SizeOf<Dirent>())..]);
        Length += size;
        return true;
    }
}
