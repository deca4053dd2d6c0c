using System.Text.Encodings.Web;
using System.Text.Json;

namespace Strata.Cli.Output;

/// <summary>Indented JSON on standard output, '+' and '&lt;' unescaped (as podman prints), ending with a newline.</summary>
public static class JsonOutput
{
    public static void WriteStrings(this Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    public static int Write(Action<Utf8JsonWriter> write)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        stdout.Write("\n"u8);
        return 0;
    }
}
