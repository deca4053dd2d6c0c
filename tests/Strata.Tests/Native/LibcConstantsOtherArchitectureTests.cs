using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Strata.Native;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Native;

/// <summary>
/// The values Strata.Core would use on the other supported architecture, against that architecture's C headers
/// (Debian's libc6-dev-*-cross, which scripts/setup.sh installs): clang compiles static assertions for that target,
/// nothing runs. This is what checks arm64's values on an x86-64 machine, and the other way round.
/// </summary>
public class LibcConstantsOtherArchitectureTests
{
    private static readonly Dictionary<Architecture, (string Target, string Headers)> Targets = new()
    {
        [Architecture.X64] = ("x86_64-linux-gnu", "/usr/x86_64-linux-gnu/include"),
        [Architecture.Arm64] = ("aarch64-linux-gnu", "/usr/aarch64-linux-gnu/include"),
    };

    [Fact]
    public void ConstantsAndLayoutsAreTheOtherArchitecturesHeaders()
    {
        var other = Targets.Keys.Single(a => a != RuntimeInformation.ProcessArchitecture);
        var (target, headers) = Targets[other];
        Requires.Tool("clang");
        Requires.Present(headers, $"the C headers of {target}");

        var constants = LibcConstantsTests.Constants();
        var values = Libc.ValuesFor(other);
        foreach (var p in typeof(Libc.ArchitectureValues).GetProperties())
            constants[p.Name] = Convert.ToInt64(p.GetValue(values), CultureInfo.InvariantCulture);
        var c = new StringBuilder(LibcConstantsTests.Headers).Append('\n');
        foreach (var (name, value) in constants)
            c.Append(CultureInfo.InvariantCulture, $"_Static_assert((long long)({LibcConstantsTests.CSpelling.GetValueOrDefault(name, name)}) == {value}LL, \"{name}\");\n");
        // Both are LP64 with natural alignment, so this machine's layouts are the other's too.
        foreach (var (owner, name, cType, fields) in LibcConstantsTests.Structs)
        {
            var type = LibcConstantsTests.StructType(owner, name);
            c.Append(CultureInfo.InvariantCulture, $"_Static_assert(sizeof({cType}) == {Marshal.SizeOf(type)}, \"sizeof({cType})\");\n");
            foreach (var (field, member) in fields)
                c.Append(CultureInfo.InvariantCulture, $"_Static_assert(offsetof({cType}, {member}) == {Marshal.OffsetOf(type, field)}, \"offsetof({cType}, {member})\");\n");
        }

        using var tmp = new TempDir("libc-constants-cross");
        var source = tmp.Combine("constants.c");
        File.WriteAllText(source, c.ToString());
        var resources = Tool.Run("clang", "-print-resource-dir").Stdout.Trim();
        var result = Tool.Run(new ToolCall("clang", ["--target=" + target, "-fsyntax-only", "-ferror-limit=0", "-std=c11", "-Wall", "-Werror",
            "-nostdinc", "-isystem", Path.Combine(resources, "include"), "-isystem", headers, source]) { Check = false });
        var failures = result.Stderr.Split('\n').Where(l => l.Contains("error:", StringComparison.Ordinal));
        Assert.True(result.Succeeded, $"on {other} ({target}):\n" + string.Join('\n', failures));
    }
}
