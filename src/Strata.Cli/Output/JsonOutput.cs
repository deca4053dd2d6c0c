using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Strata.Cli.Output;

/// <summary>Indented JSON on standard output, '+' and '&lt;' unescaped (as podman prints), ending with a newline.</summary>
public static class JsonOutput
{
    private static readonly CliJsonContext Context = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>The source-generated shape of <typeparamref name="T"/> (see <see cref="CliJsonContext"/>).</summary>
    private static JsonTypeInfo<T> Shape<T>() => (JsonTypeInfo<T>)Context.GetTypeInfo(typeof(T))!;

    public static int Write<T>(T value)
    {
        using var stdout = Console.OpenStandardOutput();
        JsonSerializer.Serialize(stdout, value, Shape<T>());
        stdout.Write("\n"u8);
        return 0;
    }
}
