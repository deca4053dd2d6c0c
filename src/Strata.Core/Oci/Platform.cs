using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Strata.Oci;

/// <summary>An operating system and CPU, as indexes pick images by.</summary>
public sealed class Platform
{
    /// <summary>The CPU architecture (GOARCH names: amd64, arm64, ...).</summary>
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "";
    /// <summary>The operating system (linux).</summary>
    [JsonPropertyName("os")] public string Os { get; set; } = "";
    /// <summary>The operating system version, where it matters.</summary>
    [JsonPropertyName("os.version")] public string? OsVersion { get; set; }
    /// <summary>Operating system features required.</summary>
    [JsonPropertyName("os.features")] public List<string>? OsFeatures { get; set; }
    /// <summary>The CPU variant (v7, v8, ...).</summary>
    [JsonPropertyName("variant")] public string? Variant { get; set; }

    /// <summary>This machine's platform in OCI terms (GOARCH names).</summary>
    public static Platform Current => new()
    {
        Os = "linux",
        Architecture = RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "amd64",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm => "arm",
            System.Runtime.InteropServices.Architecture.X86 => "386",
            System.Runtime.InteropServices.Architecture.S390x => "s390x",
            System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
            System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
            System.Runtime.InteropServices.Architecture.LoongArch64 => "loong64",
            var a => a.ToString().ToLowerInvariant(),
        },
    };

    /// <summary>os/arch[/variant].</summary>
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}
