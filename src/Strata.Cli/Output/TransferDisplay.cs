using Strata.Oci;
using Strata.Registry;

namespace Strata.Cli.Output;

/// <summary>
/// Pull and push progress on stderr: on a terminal one bar per blob, redrawn in place ten times a second; otherwise
/// one plain line per finished blob or state change (CI logs stay readable), as docker and podman do.
/// </summary>
public sealed class TransferDisplay : ITransferProgress, IDisposable
{
    private sealed class Row(Descriptor blob, string kind)
    {
        public Descriptor Blob { get; } = blob;
        public string Kind { get; } = kind;
        public long Done { get; set; }
        public string Status { get; set; } = "Waiting";
        public bool Final { get; set; }
    }

    private readonly TextWriter _out = Console.Error;
    private readonly bool _live;
    private readonly Lock _lock = new();
    private readonly List<Row> _rows = [];
    private readonly Dictionary<Digest, Row> _byDigest = [];
    private readonly Timer? _timer;
    private int _drawn;
    private bool _disposed;

    public TransferDisplay()
    {
        _live = !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");
        if (_live) _timer = new Timer(_ => Redraw(), null, 100, 100);
    }

    public void Begin(Descriptor blob, string kind)
    {
        lock (_lock)
        {
            if (_byDigest.ContainsKey(blob.Digest)) return;
            var row = new Row(blob, kind);
            _rows.Add(row);
            _byDigest[blob.Digest] = row;
        }
    }

    public void Update(Digest blob, long done)
    {
        lock (_lock)
        {
            if (!_byDigest.TryGetValue(blob, out var row)) return;
            row.Done = done;
            if (!row.Final) row.Status = "Downloading";
        }
    }

    public void Status(Digest blob, string status, bool final = false)
    {
        lock (_lock)
        {
            if (!_byDigest.TryGetValue(blob, out var row)) return;
            row.Status = status;
            row.Final |= final;
            if (final && row.Done == 0 && status is not "Already exists" and not "Skipped") row.Done = row.Blob.Size;
            if (!_live) _out.WriteLine($"{Label(row)}: {status}");
        }
    }

    public void Message(string line)
    {
        lock (_lock)
        {
            Clear();
            _out.WriteLine(line);
            if (!_disposed) DrawRows();
        }
    }

    private static string Label(Row row) => row.Kind == "blob" ? row.Blob.Digest.Short : $"{row.Kind} {row.Blob.Digest.Short}";

    private void Redraw()
    {
        lock (_lock)
        {
            if (_disposed) return;
            Clear();
            DrawRows();
        }
    }

    private void Clear()
    {
        if (!_live || _drawn == 0) return;
        _out.Write($"\e[{_drawn}A\e[J");
        _drawn = 0;
    }

    private void DrawRows()
    {
        if (!_live) return;
        int width = Math.Max(40, Console.IsErrorRedirected ? 80 : SafeWidth());
        foreach (var row in _rows)
        {
            var line = $"{Label(row),-19} {Bar(row)} {Humanize.Size(row.Done),9} / {Humanize.Size(row.Blob.Size),-9} {row.Status}";
            _out.WriteLine(line.Length >= width ? line[..(width - 1)] : line);
        }
        _drawn = _rows.Count;
        _out.Flush();
    }

    private static string Bar(Row row)
    {
        const int width = 24;
        int filled = row.Blob.Size <= 0 ? width : (int)Math.Clamp(row.Done * width / row.Blob.Size, 0, width);
        return "[" + new string('=', filled) + (filled < width ? ">" + new string(' ', width - filled - 1) : "") + "]";
    }

    private static int SafeWidth()
    {
        try { return Console.WindowWidth is > 0 and var w ? w : 120; }
        catch (IOException) { return 80; }
    }

    /// <summary>Draws the final state and leaves it on screen (later output goes below it). Idempotent.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _timer?.Dispose();
            Clear();
            DrawRows();
            _drawn = 0;
        }
    }
}
