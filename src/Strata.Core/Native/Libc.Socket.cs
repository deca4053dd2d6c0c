using System.Runtime.InteropServices;

namespace Strata.Native;

/// <summary>A Unix socket pair and receiving one fd over it (SCM_RIGHTS): how fusermount3 hands over /dev/fuse.</summary>
internal static unsafe partial class Libc
{
    public const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000;

    // CMSG_SPACE(sizeof(int)), room for a header and one fd, and CMSG_LEN(0), where the fd sits (64-bit Linux).
    private const int CmsgSpaceOfOneFd = 24, CmsgDataOffset = 16;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    public const int F_SETFD = 2, FD_CLOEXEC = 1;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPairRaw(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsg(int fd, MsgHdr* msg, int flags);

    public static int SocketPair(int type, out int a, out int b)
    {
        int* fds = stackalloc int[2];
        int rc = SocketPairRaw(AF_UNIX, type, 0, fds);
        (a, b) = (fds[0], fds[1]);
        return rc;
    }

    /// <summary>Receives one message carrying one fd; -1 with errno on failure, -2 if the peer closed without sending one.</summary>
    public static int ReceiveFd(int socket)
    {
        byte data;
        var iov = new IoVec { Base = &data, Length = 1 };
        byte* control = stackalloc byte[CmsgSpaceOfOneFd];
        var msg = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = CmsgSpaceOfOneFd };
        nint n;
        do n = RecvMsg(socket, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && LastErrno == Errno.EINTR);
        if (n < 0) return -1;
        var header = (CmsgHdr*)control;
        if (n == 0 || msg.ControlLength < (nuint)sizeof(CmsgHdr) || header->Level != SOL_SOCKET || header->Type != SCM_RIGHTS) return -2;
        return *(int*)(control + CmsgDataOffset);
    }
}
