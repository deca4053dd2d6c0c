using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Strata.Oci;

public sealed class Platform
{
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "";
    [JsonPropertyName("os")] public string Os { get; set; } = "";
    [JsonPropertyName("os.version")] public string? OsVersion { get; set; }
    [JsonPropertyName("os.features")] public List<string>? OsFeatures { get; set; }
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

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}
