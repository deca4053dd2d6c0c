using System.Text;
using Strata.Fuse;
using Strata.Native;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Fuse;

/// <summary>
/// POSIX cases through the FUSE union, modelled on pjdfstest's for the same system calls, each run on the kernel's
/// overlayfs and on the FUSE union over the same lower layer: what the kernel answers is what the union must answer.
/// </summary>
public class FusePosixTests
{
    private const int Timeout = 120_000;

    [Fact(Timeout = Timeout)]
    public Task ANameOverNameMaxIsENAMETOOLONG() => Differential(merged =>
    {
        // pjdfstest's open/02.t, mkdir/02.t, lstat, unlink: 255 bytes work, 256 give ENAMETOOLONG.
        string max = new('x', 255), over = new('y', 256);
        var lines = new List<string>();
        foreach (var name in new[] { max, over })
        {
            var path = Path.Combine(merged, name);
            lines.Add($"{name.Length} create: {Call(() => CloseIfOpen(Libc.OpenAt(Libc.AT_FDCWD, path, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1a4)))}");
            lines.Add($"{name.Length} lstat: {Lstat(path)}");
            lines.Add($"{name.Length} unlink: {Call(() => Libc.UnlinkAt(Libc.AT_FDCWD, path, 0))}");
            lines.Add($"{name.Length} mkdir: {Call(() => Libc.MkdirAt(Libc.AT_FDCWD, path, 0x1ed))}");
            lines.Add($"{name.Length} in a lower dir: {Lstat(Path.Combine(merged, "dir", name))}");
        }
        return lines;
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task HardLinksShareAttributesAtOnce() => Differential(merged =>
    {
        // pjdfstest's link/00.t: nlink, mode, owner and ctime of one name follow a link, chmod or chown through another.
        var lines = new List<string>();
        foreach (var first in new[] { "new", "lowerfile" })
        {
            string a = Path.Combine(merged, first), b = Path.Combine(merged, first + "-link"), c = Path.Combine(merged, first + "-link2");
            if (first == "new") File.WriteAllText(a, "x");
            lines.Add($"{first} before: {Attributes(a)}"); // now in the kernel's cache
            lines.Add($"link: {Call(() => Libc.LinkAt(Libc.AT_FDCWD, a, Libc.AT_FDCWD, b, 0))} {Attributes(a)} | {Attributes(b)}");
            Thread.Sleep(20); // so that a ctime left stale shows
            lines.Add($"chmod: {Call(() => Libc.FchmodAt(Libc.AT_FDCWD, b, 0x180, 0))} {Attributes(a)} {SameCtime(a, b)}");
            Thread.Sleep(20);
            lines.Add($"chown: {Call(() => Libc.FchownAt(Libc.AT_FDCWD, a, 65534, 65533, 0))} {Attributes(b)} {SameCtime(a, b)}");
            lines.Add($"link2: {Call(() => Libc.LinkAt(Libc.AT_FDCWD, b, Libc.AT_FDCWD, c, 0))} {Attributes(a)} | {Attributes(b)}");
            lines.Add($"unlink: {Call(() => Libc.UnlinkAt(Libc.AT_FDCWD, a, 0))} {Attributes(b)} | {Attributes(c)}");
            lines.Add($"truncate: {Call(() => Libc.Truncate(c, 5))} {Attributes(b)}");
            File.AppendAllText(c, "appended"); // through one name, open, write, close
            lines.Add($"write: {Attributes(b)} {SameCtime(b, c)}");
        }
        return lines;
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task FstatOfAnOpenFileWithNoNameLeftShowsNlinkZero() => Differential(merged =>
    {
        // pjdfstest's unlink/14.t: an open file outlives its last name, and fstat shows nlink 0.
        var path = Path.Combine(merged, "doomed");
        int fd = Libc.Check(Libc.OpenAt(Libc.AT_FDCWD, path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1a4), "open", path);
        try
        {
            var lines = new List<string> { $"fstat: {Fstat(fd)}" };
            lines.Add($"unlink: {Call(() => Libc.UnlinkAt(Libc.AT_FDCWD, path, 0))} fstat: {Fstat(fd)}");
            lines.Add($"ftruncate: {Call(() => Libc.Ftruncate(fd, 3))} fstat: {Fstat(fd)}");
            lines.Add($"lstat: {Lstat(path)}");
            return lines;
        }
        finally
        {
            Libc.Close(fd);
        }
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task PathsNearAndPastPathMaxWork() => Differential(merged =>
    {
        // pjdfstest's */03.t: a path of PATH_MAX-1 bytes works for every call; walking down by directory fds, paths
        // in the union (and in its layers) go on past PATH_MAX, and a lower chain that deep is read and copied up.
        var lines = new List<string>();
        var fds = new List<int>();
        try
        {
            int dfd = Libc.Check(Libc.OpenAt(Libc.AT_FDCWD, merged, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", merged);
            fds.Add(dfd);
            for (int depth = 1; depth <= Depth; depth++)
            {
                var made = Call(() => Libc.MkdirAt(dfd, DeepName, 0x1ed));
                int next = Libc.OpenAt(dfd, DeepName, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
                if (next < 0) { lines.Add($"depth {depth}: mkdir {made}, open {ErrnoName(Libc.LastErrno)}"); break; }
                fds.Add(dfd = next);
                if (depth % 5 == 0 || depth > 18) lines.Add($"depth {depth} ({depth * (DeepName.Length + 1)} bytes): {Exercise(dfd)}");
            }
            for (int i = fds.Count - 1; i > 0; i--) lines.Add($"rmdir {i}: {Call(() => Libc.UnlinkAt(fds[i - 1], DeepName, Libc.AT_REMOVEDIR))}");
            // The lower chain: read at the bottom, then changed there (copy-up of every directory on the way).
            dfd = Libc.Check(Libc.OpenAt(Libc.AT_FDCWD, Path.Combine(merged, "deep"), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", "deep");
            fds.Add(dfd);
            for (int depth = 1; depth <= Depth; depth++)
            {
                int next = Libc.OpenAt(dfd, DeepName, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
                if (next < 0) { lines.Add($"lower depth {depth}: open {ErrnoName(Libc.LastErrno)}"); break; }
                fds.Add(dfd = next);
            }
            lines.Add($"lower bottom: {Read(dfd, "f")} {StatAt(dfd, "f")} listing {string.Join(',', Directory.EnumerateFileSystemEntries($"/proc/self/fd/{dfd}").Select(Path.GetFileName).Order(StringComparer.Ordinal))}");
            lines.Add($"lower bottom chmod {Call(() => Libc.FchmodAt(dfd, "f", 0x1c0, 0))} append {Append(dfd, "f")} {Read(dfd, "f")} {StatAt(dfd, "f")}");
            lines.Add($"lower bottom rename {Call(() => Libc.RenameAt2(dfd, "f", dfd, "g", 0))} unlink {Call(() => Libc.UnlinkAt(dfd, "g", 0))} {StatAt(dfd, "g")}");
            return lines;
        }
        finally
        {
            foreach (var fd in fds) Libc.Close(fd);
        }
    }, TestContext.Current.CancellationToken, lower =>
    {
        int dfd = Libc.Check(Libc.OpenAt(Libc.AT_FDCWD, Directory.CreateDirectory(Path.Combine(lower, "deep")).FullName, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", lower);
        for (int depth = 1; depth <= Depth; depth++)
        {
            Libc.Check(Libc.MkdirAt(dfd, DeepName, 0x1ed), "mkdir", DeepName);
            int next = Libc.Check(Libc.OpenAt(dfd, DeepName, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", DeepName);
            Libc.Close(dfd);
            dfd = next;
        }
        int f = Libc.Check(Libc.OpenAt(dfd, "f", Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1a4), "create", "f");
        WriteText(f, "lower");
        Libc.Close(f);
        Libc.Close(dfd);
    });

    private const int Depth = 24; // 24 x 201 bytes: past PATH_MAX (4,096) from the mount point, and from the layers' roots
    private static readonly string DeepName = new('d', 200);

    /// <summary>Every kind of call on names in a deep directory.</summary>
    private static string Exercise(int dfd)
    {
        var r = new List<string>
        {
            $"create {Call(() => CloseIfOpen(Libc.OpenAt(dfd, "f", Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1a4)))}",
            $"append {Append(dfd, "f")} read {Read(dfd, "f")}",
            $"chmod {Call(() => Libc.FchmodAt(dfd, "f", 0x180, 0))} chown {Call(() => Libc.FchownAt(dfd, "f", 1, 2, Libc.AT_SYMLINK_NOFOLLOW))} {StatAt(dfd, "f")}",
            $"xattr {Xattr($"/proc/self/fd/{dfd}/f")}",
            $"rename {Call(() => Libc.RenameAt2(dfd, "f", dfd, "g", 0))} link {Call(() => Libc.LinkAt(dfd, "g", dfd, "h", 0))} {StatAt(dfd, "h")}",
            $"symlink {Call(() => Libc.SymlinkAt("g", dfd, "s"))} readlink {Libc.ReadLinkAt(dfd, "s")} mknod {Call(() => Libc.MknodAt(dfd, "p", Libc.S_IFIFO | 0x1a4, 0))}",
            $"mkdir {Call(() => Libc.MkdirAt(dfd, "sub", 0x1ed))} listing {string.Join(',', Directory.EnumerateFileSystemEntries($"/proc/self/fd/{dfd}").Select(Path.GetFileName).Where(n => n != DeepName).Order(StringComparer.Ordinal))}",
            $"remove {Call(() => Libc.UnlinkAt(dfd, "g", 0))} {Call(() => Libc.UnlinkAt(dfd, "h", 0))} {Call(() => Libc.UnlinkAt(dfd, "s", 0))} {Call(() => Libc.UnlinkAt(dfd, "p", 0))} {Call(() => Libc.UnlinkAt(dfd, "sub", Libc.AT_REMOVEDIR))} {StatAt(dfd, "g")}",
        };
        return string.Join("; ", r);
    }

    private static string Append(int dfd, string name)
    {
        int fd = Libc.OpenAt(dfd, name, Libc.O_WRONLY | Libc.O_APPEND | Libc.O_CLOEXEC, 0);
        if (fd < 0) return ErrnoName(Libc.LastErrno);
        try { return WriteText(fd, "more"); }
        finally { Libc.Close(fd); }
    }

    private static unsafe string WriteText(int fd, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes) return Libc.Write(fd, p, (nuint)bytes.Length) == bytes.Length ? "ok" : ErrnoName(Libc.LastErrno);
    }

    private static unsafe string Read(int dfd, string name)
    {
        int fd = Libc.OpenAt(dfd, name, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) return ErrnoName(Libc.LastErrno);
        try
        {
            var buffer = new byte[256];
            fixed (byte* p = buffer)
            {
                var n = Libc.Read(fd, p, (nuint)buffer.Length);
                return n < 0 ? ErrnoName(Libc.LastErrno) : $"\"{Encoding.UTF8.GetString(buffer, 0, (int)n)}\"";
            }
        }
        finally { Libc.Close(fd); }
    }

    private static string StatAt(int dfd, string name)
    {
        try
        {
            return Libc.TryLstatAt(dfd, name, out var st) ? Describe(st) : "ENOENT";
        }
        catch (ErrnoException e)
        {
            return ErrnoName(e.Number);
        }
    }

    private static string Xattr(string path)
    {
        try
        {
            Libc.SetXattr(path, "user.deep", "value"u8);
            return Encoding.UTF8.GetString(Libc.GetXattr(path, "user.deep") ?? []);
        }
        catch (ErrnoException e)
        {
            return ErrnoName(e.Number);
        }
    }

    [Fact(Timeout = Timeout)]
    public Task NewObjectsGetTheModeAskedWhateverTheDaemonsUmask() => Task.Run(() =>
    {
        // pjdfstest's open/00.t, mkdir/00.t, mkfifo/00.t under umask 0. The kernel has applied the caller's umask
        // already; the daemon, started under umask 022 as every --driver fuse container's is, must not apply its own.
        Requires.Root();
        Requires.Overlay();
        Requires.Fuse();
        var bin = Environment.GetEnvironmentVariable("STRATA_BIN");
        if (string.IsNullOrEmpty(bin)) Assert.Skip("needs the published strata binary (STRATA_BIN) for strata-overlay, a daemon with its own umask");
        var strataOverlay = Path.Combine(Path.GetDirectoryName(bin)!, "strata-overlay");
        using var tmp = new TempDir();
        var lower = tmp.CreateDirectory("lower");
        var results = new List<string>();
        foreach (var kind in new[] { "kernel", "fuse" })
        {
            string upper = tmp.CreateDirectory(kind, "upper"), work = tmp.CreateDirectory(kind, "work"), merged = tmp.CreateDirectory(kind, "merged");
            var options = $"lowerdir={lower},upperdir={upper},workdir={work}";
            if (kind == "kernel") Tool.Run("mount", "-t", "overlay", "overlay", "-o", options, merged);
            else Tool.Run("sh", "-c", "umask 022; exec \"$0\" -o \"$1\" \"$2\"", strataOverlay, options, merged);
            try
            {
                results.Add(Tool.Run(new ToolCall("sh", ["-c", "umask 0 && mkdir d && : > f && mkfifo p && mkdir -m 1777 s && umask 027 && mkdir d2 && : > f2 && stat -c '%n %a' d f p s d2 f2"]) { WorkingDirectory = merged }).Stdout);
            }
            finally
            {
                Tool.Run("umount", merged);
            }
        }
        Assert.Equal(results[0], results[1]);
    }, TestContext.Current.CancellationToken);

    // ---------- the kernel's overlayfs and the FUSE union on the same layer, side by side ----------

    /// <summary>Runs a case on a fresh kernel overlay and a fresh FUSE union over copies of one lower layer; their lines must agree.</summary>
    private static Task Differential(Func<string, List<string>> scenario, CancellationToken cancel, Action<string>? lowerToo = null) => Task.Run(() =>
    {
        Requires.Root();
        Requires.Overlay();
        Requires.Fuse();
        using var tmp = new TempDir();
        var lower = tmp.CreateDirectory("lower");
        Directory.CreateDirectory(Path.Combine(lower, "dir"));
        File.WriteAllText(Path.Combine(lower, "lowerfile"), "lower\n");
        File.WriteAllText(Path.Combine(lower, "dir", "f"), "lower\n");
        lowerToo?.Invoke(lower);
        string kUpper = tmp.CreateDirectory("k-upper"), kWork = tmp.CreateDirectory("k-work"), kMerged = tmp.CreateDirectory("k-merged");
        string fUpper = tmp.CreateDirectory("f-upper"), fWork = tmp.CreateDirectory("f-work"), fMerged = tmp.CreateDirectory("f-merged");
        Tool.Run("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={lower},upperdir={kUpper},workdir={kWork}", kMerged);
        try
        {
            var kernel = scenario(kMerged);
            List<string> fuse;
            using (FuseSession.Mount(new UnionFileSystem(fUpper, fWork, [lower]), fMerged, "strata-posix"))
                fuse = scenario(fMerged);
            Assert.True(kernel.SequenceEqual(fuse), $"the kernel's overlayfs and the FUSE union differ:\nkernel:\n  {string.Join("\n  ", kernel)}\nFUSE:\n  {string.Join("\n  ", fuse)}");
        }
        finally
        {
            Tool.Run("umount", kMerged);
        }
    }, cancel);

    internal static string Call(Func<int> call) => call() >= 0 ? "ok" : ErrnoName(Libc.LastErrno);

    private static int CloseIfOpen(int fd)
    {
        if (fd >= 0) Libc.Close(fd);
        return fd;
    }

    internal static string ErrnoName(int errno) => errno switch
    {
        Errno.ENAMETOOLONG => "ENAMETOOLONG",
        Errno.ENOENT => "ENOENT",
        Errno.EEXIST => "EEXIST",
        Errno.EIO => "EIO",
        Errno.ENOTDIR => "ENOTDIR",
        _ => $"errno {errno}",
    };

    internal static string Lstat(string path)
    {
        try
        {
            return Libc.TryLstatAt(Libc.AT_FDCWD, path, out var st) ? $"mode {Convert.ToString(st.Mode, 8)}" : "ENOENT";
        }
        catch (ErrnoException e)
        {
            return ErrnoName(e.Number);
        }
    }

    /// <summary>What a hard link's names must agree on (the inode number differs between the two mounts).</summary>
    private static string Attributes(string path) =>
        Libc.TryLstatAt(Libc.AT_FDCWD, path, out var st) ? Describe(st) : "ENOENT";

    private static string Fstat(int fd) => Describe(Libc.StatFd(fd));

    private static string Describe(in Libc.Statx st) =>
        $"nlink {st.Nlink} mode {Convert.ToString(st.Mode, 8)} owner {st.Uid}:{st.Gid} size {st.Size} ctime {(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - st.Ctime.Seconds < 5 ? "recent" : "old")}";

    private static string SameCtime(string a, string b)
    {
        Assert.True(Libc.TryLstatAt(Libc.AT_FDCWD, a, out var x));
        Assert.True(Libc.TryLstatAt(Libc.AT_FDCWD, b, out var y));
        return x.Ctime.Seconds == y.Ctime.Seconds && x.Ctime.Nanoseconds == y.Ctime.Nanoseconds ? "same ctime" : "ctimes differ";
    }
}
