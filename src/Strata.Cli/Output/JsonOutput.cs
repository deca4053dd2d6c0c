using System.Text.Encodings.Web;
using System.Text.Json;

namespace Strata.Cli.Output;

/// <summary>Indented JSON on standard output, '+' and '&lt;' unescaped (as podman prints), ending with a newline.</summary>
public static class JsonOutput
{
    public static int Write(Action<Utf8JsonWriter> write)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        stdout.Write("\n"u8);
        return 0;
    }
}
