using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using static Strata.Fuse.FuseProtocol;

namespace Strata.Fuse;

/// <summary>
/// One request read from /dev/fuse: its header and argument bytes, with readers for the fixed structs and the
/// NUL-terminated names that follow them. Valid until the worker reads the next request into the same buffer.
/// </summary>
internal ref struct FuseRequest
{
    private readonly ReadOnlySpan<byte> _args;
    private int _pos;

    public FuseRequest(ReadOnlySpan<byte> message)
    {
        Header = MemoryMarshal.Read<InHeader>(message);
        _args = message[Unsafe.SizeOf<InHeader>()..(int)Header.Len];
        _pos = 0;
    }

    public InHeader Header { get; }
    public readonly ulong NodeId => Header.NodeId;

    public T Read<T>() where T : unmanaged
    {
        // Older kernels send shorter structs for some opcodes; missing tail fields read as zero.
        int size = Unsafe.SizeOf<T>();
        T value = default;
        var available = _args[_pos..];
        var bytes = MemoryMarshal.AsBytes(new Span<T>(ref value));
        available[..Math.Min(size, available.Length)].CopyTo(bytes);
        _pos += Math.Min(size, available.Length);
        return value;
    }

    /// <summary>The next NUL-terminated string (a file name, an xattr name, a symlink target).</summary>
    public string ReadName()
    {
        var rest = _args[_pos..];
        int nul = rest.IndexOf((byte)0);
        if (nul < 0) nul = rest.Length;
        _pos += Math.Min(nul + 1, rest.Length);
        return Encoding.UTF8.GetString(rest[..nul]);
    }

    /// <summary>The remaining bytes (write data, an xattr value).</summary>
    public ReadOnlySpan<byte> Rest(int length) => _args.Slice(_pos, Math.Min(length, _args.Length - _pos));
}
