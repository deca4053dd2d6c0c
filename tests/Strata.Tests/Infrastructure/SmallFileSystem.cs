namespace Strata.Tests.Infrastructure;

/// <summary>
/// A size-limited tmpfs mounted in a test's TempDir (root only), for stores that fill up or turn read-only. A filler
/// file takes the space a test wants gone; Dispose unmounts (TempDir's own Dispose would too, lazily).
/// </summary>
public sealed class SmallFileSystem : IDisposable
{
    private readonly string _filler;

    public SmallFileSystem(TempDir tmp, long bytes)
    {
        Requires.Root();
        Path = tmp.CreateDirectory("fs-" + Guid.NewGuid().ToString("N")[..8]);
        Tool.Run("mount", "-t", "tmpfs", "-o", $"size={bytes},mode=0755", "strata-test-fs", Path);
        _filler = System.IO.Path.Combine(Path, "filler");
    }

    public string Path { get; }

    /// <summary>Bytes an unprivileged write could still take.</summary>
    public long Available => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Grows the filler until only about <paramref name="leave"/> bytes are free (0: until the disk is full).</summary>
    public void Fill(long leave = 0)
    {
        using var f = new FileStream(_filler, FileMode.Append, FileAccess.Write, FileShare.None, 1);
        var chunk = new byte[64 << 10];
        Random.Shared.NextBytes(chunk);
        try
        {
            while (Available > leave)
                f.Write(chunk, 0, (int)Math.Min(chunk.Length, Math.Max(4096, Available - leave)));
        }
        catch (IOException) when (leave == 0) { }
        if (leave == 0)
        {
            // The last blocks: byte by byte until the file system refuses.
            try { while (true) f.Write(chunk, 0, 1); }
            catch (IOException) { }
        }
    }

    /// <summary>Gives the filler's space back.</summary>
    public void Free() => File.Delete(_filler);

    public void Remount(bool readOnly) => Tool.Run("mount", "-o", readOnly ? "remount,ro" : "remount,rw", Path);

    public void Dispose() => Tool.Run(new ToolCall("umount", ["-l", Path]) { Check = false });
}
