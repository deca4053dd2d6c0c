using Microsoft.Win32.SafeHandles;
using Strata.Fuse;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Fuse;

/// <summary>
/// fsx-style: thousands of random writes (past the end too, leaving holes), reads, truncates, fsyncs and reopens of
/// one file through the FUSE union, every read checked against an in-memory model. The file starts in a lower layer,
/// so the first write copies it up. Both I/O paths: the kernel's passthrough to the backing file, and reads and
/// writes served by the daemon (what a rootless mount gets).
/// </summary>
public class FuseFsxTests
{
    public static TheoryData<int, bool> Seeds => [.. Enumerable.Range(1, 4).SelectMany(s => new[] { (s, true), (s, false) })];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomIoMatchesTheModel(int seed, bool passthrough)
    {
        Requires.Root();
        Requires.Fuse();
        using var tmp = new TempDir();
        var rnd = new Random(seed);
        var lower = tmp.CreateDirectory("lower");
        var model = new List<byte>(new byte[rnd.Next(0, 300_000)]);
        var initial = model.ToArray();
        rnd.NextBytes(initial);
        model = [.. initial];
        File.WriteAllBytes(Path.Combine(lower, "f"), initial);
        string upper = tmp.CreateDirectory("upper"), work = tmp.CreateDirectory("work"), merged = tmp.CreateDirectory("merged");
        using var session = FuseSession.Mount(new UnionFileSystem(upper, work, [lower]), merged, "strata-fsx", passthrough: passthrough);
        var path = Path.Combine(merged, "f");
        var ops = new List<string>();
        SafeFileHandle Open() => File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        var handle = Open();
        try
        {
            for (int i = 0; i < 1500; i++)
            {
                int kind = rnd.Next(100);
                if (kind < 40)
                {
                    long offset = rnd.Next(0, model.Count + 70_000);
                    var data = new byte[rnd.Next(1, 70_000)];
                    rnd.NextBytes(data);
                    ops.Add($"write {offset} +{data.Length}");
                    RandomAccess.Write(handle, data, offset);
                    while (model.Count < offset + data.Length) model.Add(0);
                    for (int j = 0; j < data.Length; j++) model[(int)offset + j] = data[j];
                }
                else if (kind < 75)
                {
                    long offset = rnd.Next(0, model.Count + 1000);
                    var buffer = new byte[rnd.Next(1, 140_000)];
                    ops.Add($"read {offset} +{buffer.Length}");
                    int n = ReadFully(handle, buffer, offset);
                    int expected = (int)Math.Max(0, Math.Min(buffer.Length, model.Count - offset));
                    Check(n == expected, $"read returned {n} bytes, the model has {expected}");
                    for (int j = 0; j < n; j++)
                        Check(buffer[j] == model[(int)offset + j], $"byte {offset + j} is {buffer[j]}, the model says {model[(int)offset + j]}");
                }
                else if (kind < 85)
                {
                    int size = rnd.Next(0, 400_000);
                    ops.Add($"truncate {size}");
                    RandomAccess.SetLength(handle, size);
                    if (size < model.Count) model.RemoveRange(size, model.Count - size);
                    else model.AddRange(new byte[size - model.Count]);
                }
                else if (kind < 92)
                {
                    ops.Add("fsync");
                    RandomAccess.FlushToDisk(handle);
                }
                else
                {
                    ops.Add("close, reopen");
                    handle.Dispose();
                    handle = Open();
                }
                if (i % 100 == 0) Check(RandomAccess.GetLength(handle) == model.Count, $"length {RandomAccess.GetLength(handle)}, the model has {model.Count}");
            }
        }
        finally
        {
            handle.Dispose();
        }
        // Passthrough: the kernel read and wrote the backing file itself; without it every byte came through here.
        Assert.Equal(passthrough, session.Requests(FuseProtocol.Opcode.Read) + session.Requests(FuseProtocol.Opcode.Write) == 0);
        Assert.Equal(model.ToArray(), File.ReadAllBytes(path));
        Assert.Equal(model.ToArray(), File.ReadAllBytes(Path.Combine(upper, "f")));
        Assert.Equal(initial, File.ReadAllBytes(Path.Combine(lower, "f"))); // the lower layer never changes

        void Check(bool ok, string what)
        {
            if (!ok) Assert.Fail($"seed {seed}, op {ops.Count}: {what}\nlast ops:\n  {string.Join("\n  ", ops.TakeLast(20))}");
        }
    }

    private static int ReadFully(SafeFileHandle handle, byte[] buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer.AsSpan(total), offset + total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
