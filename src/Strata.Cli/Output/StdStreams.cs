namespace Strata.Cli.Output;

/// <summary>Standard input and output as files: the engine streams archives to and from files directly, without a pipe.</summary>
public static class StdStreams
{
    public static FileStream Input() => new(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1 << 16);

    public static FileStream Output() => new(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1 << 16);
}
