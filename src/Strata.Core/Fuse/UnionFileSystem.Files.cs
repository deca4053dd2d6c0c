using Strata.Native;
using static Strata.Fuse.FuseProtocol;
using static Strata.Native.Libc;

namespace Strata.Fuse;

internal sealed partial class UnionFileSystem
{
    private const int O_ACCMODE = 3, O_APPEND = 0x400, O_NOCTTY = 0x100;

    /// <summary>An open file: the fd of the copy it was opened on (the upper one for any write).</summary>
    private sealed class OpenFile(int fd)
    {
        public int Fd { get; } = fd;
    }

    public int Open(ulong node, uint flags, out ulong fh, out uint openFlags)
    {
        fh = 0;
        openFlags = 0;
        int f = (int)flags;
        bool writes = (f & O_ACCMODE) != O_RDONLY || (f & O_TRUNC) != 0;
        string full;
        lock (_lock)
        {
            if (NodeOf(node) is not { } n || Resolve(n.Path) is not { } found) return Errno.ENOENT;
            if (writes && !Writable) return Errno.EROFS;
            full = found.Full;
            if (writes && found.Layer != 0)
            {
                int e = CopyUp(n.Path);
                if (e != 0) return e;
                full = Path.Combine(_upper!, n.Path);
            }
            if (writes) Changed();
        }
        int fd = OpenAt(AT_FDCWD, full, (f & ~(O_CREAT | O_EXCL | O_NOCTTY)) | O_CLOEXEC, 0);
        if (fd < 0) return LastErrno;
        fh = Add(fd);
        return 0;
    }

    private ulong Add(int fd)
    {
        var fh = (ulong)Interlocked.Increment(ref _nextHandle);
        _files[fh] = new OpenFile(fd);
        return fh;
    }

    public unsafe int Read(ulong fh, long offset, Span<byte> buffer, out int count)
    {
        count = 0;
        if (!_files.TryGetValue(fh, out var file)) return Errno.EBADF;
        fixed (byte* p = buffer)
        {
            while (count < buffer.Length)
            {
                nint n = Pread(file.Fd, p + count, (nuint)(buffer.Length - count), offset + count);
                if (n < 0) { int e = LastErrno; if (e == Errno.EINTR) continue; return e; }
                if (n == 0) break; // a short read tells the kernel where the file ends
                count += (int)n;
            }
        }
        return 0;
    }

    public unsafe int Write(ulong fh, long offset, ReadOnlySpan<byte> data, out int count)
    {
        count = 0;
        if (!_files.TryGetValue(fh, out var file)) return Errno.EBADF;
        fixed (byte* p = data)
        {
            while (count < data.Length)
            {
                nint n = Pwrite(file.Fd, p + count, (nuint)(data.Length - count), offset + count);
                if (n < 0) { int e = LastErrno; if (e == Errno.EINTR) continue; return e; }
                count += (int)n;
            }
        }
        return 0;
    }

    public int Flush(ulong fh) => _files.ContainsKey(fh) ? 0 : Errno.EBADF;

    public int Fsync(ulong fh, bool dataOnly)
    {
        if (!_files.TryGetValue(fh, out var file)) return Errno.EBADF;
        return (dataOnly ? Fdatasync(file.Fd) : Libc.Fsync(file.Fd)) == 0 ? 0 : LastErrno;
    }

    public void Release(ulong fh)
    {
        if (_files.TryRemove(fh, out var file)) Close(file.Fd);
    }

    public int Create(ulong parent, string name, uint flags, uint mode, FuseCaller caller, out EntryOut entry, out ulong fh, out uint openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = 0;
        lock (_lock)
        {
            int e = PrepareNew(parent, name, out var path, out var full);
            if (e != 0) return e;
            int fd = OpenAt(AT_FDCWD, full, ((int)flags & ~O_NOCTTY) | O_CREAT | O_CLOEXEC, mode & 0xfff);
            if (fd < 0) return LastErrno;
            e = Own(full, caller, S_IFREG | (mode & 0xfff));
            if (e != 0) { Close(fd); return e; }
            Changed();
            entry = Entry(Remember(path), full, StatPath(full)!.Value);
            fh = Add(fd);
            return 0;
        }
    }
}
