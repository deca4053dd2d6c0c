using Microsoft.Data.Sqlite;
using Strata.Errors;
using Strata.Native;

namespace Strata.Storage;

/// <summary>
/// Failures of the file system under the store (full, over quota, read-only, I/O error) and of its database, told
/// as one line of <see cref="ErrorKind.Storage"/> instead of .NET's or SQLite's raw text. None is worth a retry.
/// </summary>
internal static class StorageFaults
{
    // SQLite's primary result codes (the low byte of an extended code).
    private const int SqliteBusy = 5, SqliteLocked = 6, SqliteReadOnly = 8, SqliteIoErr = 10, SqliteFull = 13, SqliteCantOpen = 14;

    /// <summary>The errno of a file-system IOException that says the disk failed, not the network or the caller.</summary>
    /// <remarks>On Unix .NET puts the raw errno in HResult of the IOExceptions it makes from a failed system call.</remarks>
    /// <remarks>Inner exceptions count: HttpClient wraps a failed read of a request body (a blob being pushed).</remarks>
    public static bool IsDiskFault(Exception e) => e switch
    {
        ErrnoException n => IsDiskErrno(n.Number),
        StrataException { Kind: ErrorKind.Storage } => true,
        IOException io when io.GetType() == typeof(IOException) && IsDiskErrno(io.HResult) => true,
        { InnerException: { } inner } => IsDiskFault(inner),
        _ => false,
    };

    private static bool IsDiskErrno(int errno) => errno is Errno.ENOSPC or Errno.EDQUOT or Errno.EROFS or Errno.EIO or Errno.EFBIG;

    /// <summary>
    /// A StrataException for a disk or database failure met while working on the store at <paramref name="root"/>,
    /// or null when <paramref name="e"/> is something else (left as it is).
    /// </summary>
    public static StrataException? Translate(Exception e, string root) => e switch
    {
        StrataException => null,
        SqliteException s => FromSqlite(s, root),
        IOException io when io.GetType() == typeof(IOException) && IsDiskErrno(io.HResult)
            => new StrataException(ErrorKind.Storage, Describe(io.HResult, PathIn(io.Message), root), io),
        { InnerException: { } inner } when IsDiskFault(inner) => Translate(inner, root),
        _ => null,
    };

    /// <summary>One line for a disk errno: what happened and where (the store, or another path such as an output).</summary>
    public static string Describe(int errno, string? path, string root)
    {
        var where = path is null || IsUnder(path, root) ? $"the store's file system ({root})" : path;
        return errno switch
        {
            Errno.ENOSPC => $"no space left on {where}: free some space and try again",
            Errno.EDQUOT => $"disk quota exceeded on {where}: free some space and try again",
            Errno.EFBIG => $"file too large for {where}",
            Errno.EROFS => $"{where} is read-only",
            _ => $"I/O error on {where}",
        };
    }

    private static StrataException? FromSqlite(SqliteException s, string root) => (s.SqliteErrorCode & 0xff) switch
    {
        SqliteFull => new(ErrorKind.Storage, Describe(Errno.ENOSPC, null, root), s),
        // SQLite says only "disk I/O error" when it cannot grow its WAL index on a full disk: look.
        SqliteIoErr when IsFull(root) => new(ErrorKind.Storage, Describe(Errno.ENOSPC, null, root), s),
        SqliteIoErr => new(ErrorKind.Storage, $"the store's database could not be read or written ({root}): the file system is full or failing", s),
        SqliteReadOnly => new(ErrorKind.Storage, $"the store is read-only ({root})", s),
        SqliteCantOpen => new(ErrorKind.Storage, $"cannot open the store's database ({root}): check that it exists and can be read", s),
        SqliteBusy or SqliteLocked => new(ErrorKind.Conflict,
            $"the store is busy ({root}): another strata process kept its database locked for too long; try again", s),
        _ => null,
    };

    private static bool IsFull(string root) =>
        root.Length > 0 && Libc.StatVfs(root, out var v) == 0 && v.Bavail * v.Frsize < 64 << 10;

    /// <summary>The path .NET appends to an errno's message ("No space left on device : '/x'"), if any.</summary>
    private static string? PathIn(string message)
    {
        int start = message.IndexOf(" : '", StringComparison.Ordinal);
        return start >= 0 && message.EndsWith('\'') ? message[(start + 4)..^1] : null;
    }

    private static bool IsUnder(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);
}
