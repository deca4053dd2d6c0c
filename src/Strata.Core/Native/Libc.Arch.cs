using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Strata.Native;

/// <summary>
/// The libc values that differ by architecture. x86-64 keeps i386's historic O_ flags; arm64 has asm-generic's, where
/// x86-64's O_DIRECTORY (0x10000) means O_DIRECT. Other architectures are refused at first use rather than guessed.
/// </summary>
internal static partial class Libc
{
    /// <summary>One architecture's values, by their C names.</summary>
    internal readonly record struct ArchitectureValues(int O_DIRECTORY, int O_NOFOLLOW);

    private static readonly ArchitectureValues X64 = new(O_DIRECTORY: 0x10000, O_NOFOLLOW: 0x20000);
    private static readonly ArchitectureValues Arm64 = new(O_DIRECTORY: 0x4000, O_NOFOLLOW: 0x8000);

    public static int O_DIRECTORY => ValuesFor(RuntimeInformation.ProcessArchitecture).O_DIRECTORY;
    public static int O_NOFOLLOW => ValuesFor(RuntimeInformation.ProcessArchitecture).O_NOFOLLOW;

    // ProcessArchitecture is a constant of the runtime's build, so this folds to one static field where it is used.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ArchitectureValues ValuesFor(Architecture architecture) => architecture switch
    {
        Architecture.X64 => X64,
        Architecture.Arm64 => Arm64,
        _ => throw Unsupported(architecture),
    };

    private static PlatformNotSupportedException Unsupported(Architecture architecture) =>
        new($"Strata knows the libc constants of x64 and arm64 Linux only, not {architecture}");
}
