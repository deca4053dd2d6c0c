using System.Text;

namespace Strata.Cli.Output;

/// <summary>Left-aligned columns separated by at least three spaces, as docker and podman print them.</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] row) => _rows.Add(row);

    public void Write(TextWriter output, bool header = true)
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
            for (int i = 0; i < row.Length; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        var sb = new StringBuilder();
        if (header) Line(sb, headers, widths);
        foreach (var row in _rows) Line(sb, row, widths);
        output.Write(sb.ToString());
    }

    private static void Line(StringBuilder sb, string[] cells, int[] widths)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            if (i == cells.Length - 1) sb.Append(cells[i]);
            else sb.Append(cells[i].PadRight(widths[i] + 3));
        }
        sb.Append('\n');
    }
}
