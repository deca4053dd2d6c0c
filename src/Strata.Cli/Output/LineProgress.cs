namespace Strata.Cli.Output;

/// <summary>Progress lines written as they come, on the caller's thread (Progress&lt;T&gt; would post them late and out of order).</summary>
public sealed class LineProgress(TextWriter output) : IProgress<string>
{
    public void Report(string value) => output.WriteLine(value);
}
