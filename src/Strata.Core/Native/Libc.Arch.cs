using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Strata.Native;

/// <summary>
/// The libc values that differ by architecture. x86-64 keeps i386's historic O_ flags; arm64 has asm-generic's, where
/// x86-64's O_DIRECTORY (0x10000) means O_DIRECT. Other architectures are refused at first use rather than guessed.
/// </summary>
internal static partial class Libc
{
    public static int O_DIRECTORY => PerArchitecture(x64: 0x10000, arm64: 0x4000);
    public static int O_NOFOLLOW => PerArchitecture(x64: 0x20000, arm64: 0x8000);

    // ProcessArchitecture is a constant of the runtime's build, so the switch folds away where these are used.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PerArchitecture(int x64, int arm64) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => x64,
        Architecture.Arm64 => arm64,
        _ => throw UnsupportedArchitecture(),
    };

    private static PlatformNotSupportedException UnsupportedArchitecture() => new(
        $"Strata knows the libc constants of x64 and arm64 Linux only, not {RuntimeInformation.ProcessArchitecture}");
}
