using static Strata.Fuse.FuseProtocol;

namespace Strata.Fuse;

/// <summary>Who asked: new files get the caller's owner, as the kernel's overlayfs gives them.</summary>
internal readonly record struct FuseCaller(uint Uid, uint Gid, uint Pid);

/// <summary>
/// The operations of a FUSE file system, by node ID. Each returns 0 or a positive errno; <see cref="FuseSession"/>
/// turns that into the reply. Methods may run on several worker threads at once.
/// </summary>
internal interface IFuseFileSystem
{
    int Lookup(ulong parent, string name, out EntryOut entry);
    void Forget(ulong node, ulong count);
    /// <param name="fh">The open file the caller asks through (fstat), or 0.</param>
    int GetAttr(ulong node, ulong fh, out AttrOut attr);
    int SetAttr(ulong node, in SetattrIn set, FuseCaller caller, out AttrOut attr);
    int ReadLink(ulong node, out byte[] target);
    int Symlink(ulong parent, string name, string target, FuseCaller caller, out EntryOut entry);
    int Mknod(ulong parent, string name, uint mode, uint rdev, FuseCaller caller, out EntryOut entry);
    int Mkdir(ulong parent, string name, uint mode, FuseCaller caller, out EntryOut entry);
    int Unlink(ulong parent, string name);
    int Rmdir(ulong parent, string name);
    int Rename(ulong parent, string name, ulong newParent, string newName, uint flags);
    int Link(ulong node, ulong newParent, string newName, out EntryOut entry);
    int Open(ulong node, uint flags, bool killSuidgid, out OpenOut open);
    int Create(ulong parent, string name, uint flags, uint mode, FuseCaller caller, out EntryOut entry, out OpenOut open);
    int Read(ulong fh, long offset, Span<byte> buffer, out int count);
    int Write(ulong fh, long offset, ReadOnlySpan<byte> data, bool killSuidgid, out int count);
    int Fsync(ulong fh, bool dataOnly);
    void Release(ulong fh);
    int Statfs(ulong node, out StatfsOut stat);
    int SetXattr(ulong node, string name, ReadOnlySpan<byte> value, int flags);
    int GetXattr(ulong node, string name, Span<byte> buffer, out int size);
    int ListXattr(ulong node, Span<byte> buffer, out int size);
    int RemoveXattr(ulong node, string name);
    int OpenDir(ulong node, out ulong fh);
    int ReadDir(ulong node, ulong fh, long offset, bool plus, ref DirentBuffer output);
    void ReleaseDir(ulong fh);
    int Access(ulong node, uint mask);

    /// <summary>Set once the kernel agreed to FUSE passthrough: opens may hand it files to read and write itself.</summary>
    IBackingFiles? Backing { get; set; }

    /// <summary>Set once the session is up: what the file system changes on its own it tells the kernel's caches.</summary>
    IKernelCache? Cache { get; set; }

    /// <summary>Why the file system cannot be trusted any more (its backing directories vanished), or null.</summary>
    string? Problem();
}

/// <summary>
/// The kernel's caches of a FUSE mount (FUSE notify messages): entries and attributes stay valid for long, so a change
/// the kernel did not make itself through this node (another name of the same file, a copy-up) is told here.
/// </summary>
internal interface IKernelCache
{
    /// <summary>Drops the kernel's attributes of a node (not its page cache); the next stat asks again.</summary>
    void InvalidateAttributes(ulong node);
}

/// <summary>
/// The kernel's FUSE passthrough (Linux 6.9+, needs CAP_SYS_ADMIN): a file registered here is read, written and
/// mapped by the kernel directly, with no request to the daemon, at the backing file system's own speed.
/// </summary>
internal interface IBackingFiles
{
    /// <summary>Registers an open file: its backing ID (above 0), or a negative errno.</summary>
    int Register(int fd);

    void Unregister(int id);
}
