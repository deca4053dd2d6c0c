using System.Runtime.InteropServices;
using Strata.Errors;

namespace Strata.Native;

/// <summary>A failed system call: which one, on what, and the errno text.</summary>
internal sealed class ErrnoException(int errno, string operation, string path)
    : StrataException(KindOf(errno), $"{operation} {path}: {Marshal.GetPInvokeErrorMessage(errno)}")
{
    public int Number { get; } = errno;

    private static ErrorKind KindOf(int errno) => errno switch
    {
        Errno.ENOENT => ErrorKind.NotFound,
        Errno.EEXIST => ErrorKind.AlreadyExists,
        Errno.EPERM or Errno.EACCES => ErrorKind.PermissionDenied,
        Errno.ENOSPC or Errno.EDQUOT or Errno.EROFS or Errno.EIO or Errno.EFBIG => ErrorKind.Storage,
        _ => ErrorKind.Internal,
    };
}

/// <summary>errno values: the same on x86-64 and arm64 (LibcConstantsTests checks them against errno.h).</summary>
internal static class Errno
{
    public const int EPERM = 1, ENOENT = 2, EINTR = 4, EBADF = 9, EACCES = 13, EEXIST = 17, EXDEV = 18, ENOTDIR = 20,
        EISDIR = 21, EINVAL = 22, ENOSPC = 28, ELOOP = 40, ENOTEMPTY = 39, ENODATA = 61, EOPNOTSUPP = 95, ENOSYS = 38,
        EIO = 5, E2BIG = 7, EAGAIN = 11, EWOULDBLOCK = EAGAIN, ENODEV = 19, EROFS = 30, ERANGE = 34, ENAMETOOLONG = 36, ENOTCONN = 107, EPROTO = 71, ESTALE = 116,
        EFBIG = 27, EDQUOT = 122;
}
