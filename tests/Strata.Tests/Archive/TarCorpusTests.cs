using System.Text;
using System.Text.RegularExpressions;
using static Strata.Tests.Archive.RawTar;

namespace Strata.Tests.Archive;

/// <summary>
/// Strata must extract a tar as bsdtar does. A fixed set of hand-made archives, one per defect found on
/// libarchive's test archives, always runs; the corpus itself (libarchive's uuencoded *.uu files under
/// libarchive/test, tar/test and cpio/test) runs when STRATA_TAR_CORPUS names a directory holding them:
/// no Debian package ships them, and CI reaches nothing else.
/// </summary>
public partial class TarCorpusTests
{
    private static readonly byte[] Next = "next entry\n"u8.ToArray();

    /// <summary>Name, bytes, and a path (with text in its line) that bsdtar's tree must hold, so two refusals cannot pass as agreement.</summary>
    private static IEnumerable<(string Name, byte[] Archive, string Expect, string ExpectLine)> HandMade()
    {
        yield return ("v7-directory-with-size", Concat(Header("directory1/", '\0', 1, ustar: false, mode: 0b111_000_000),
            Header("directory2/", '5', 0, ustar: false, mode: 0b111_000_000)), "directory2", "d 700");
        var content = Enumerable.Repeat((byte)'x', 321).ToArray();
        yield return ("hard-link-with-size-at-end", Concat(Header("docs/READMf", '0', 321, ustar: false), Data(content),
            Header("README", '1', 321, "docs/READMf", ustar: false)), "docs/READMf", "size 321");
        yield return ("header-only-types-with-size", Concat(Header("target", '0'), Header("sym", '2', 600, "target"),
            Header("fifo", '6', 5), Header("dir", '5', 1000), Header("dir/next", '0', Next.Length), Data(Next), End), "dir/next", "size 11");
        var tar = Concat(Header("zstd-file", '0', Next.Length), Data(Next), End);
        using (var ms = new MemoryStream())
        {
            using (var z = new ZstdSharp.CompressionStream(ms, 3, leaveOpen: true))
                z.Write(tar);
            yield return ("zstd-after-skippable-frame", [0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3, .. ms.ToArray()], "zstd-file", "size 11");
        }
        yield return ("libarchive-xattr-unpadded", Concat(Pax(("LIBARCHIVE.xattr.user.data1", "QUJDREVGRw")), Header("file", '0'), End), "file", "xattr user.data1=0x41424344454647");
    }

    [Fact]
    public void HandMadeArchivesExtractAsBsdtarDoes()
    {
        using var sh = new Shell();
        foreach (var (name, archive, expect, expectLine) in HandMade())
        {
            string path = sh.P(name);
            File.WriteAllBytes(path, archive);
            string scratch = sh.P(name + ".d");
            Directory.CreateDirectory(scratch);
            string? difference = BsdtarComparison.Compare(path, scratch, out var bsdtar, out _);
            Assert.True(difference == null, $"{name}: {difference}");
            Assert.True(bsdtar.Tree?.GetValueOrDefault(expect)?.Contains(expectLine) == true,
                $"{name}: bsdtar did not extract {expect} ({expectLine}): {bsdtar.Error}");
        }
    }

    /// <summary>
    /// Known, deliberate differences: archive name -> why. Everything else that differs fails the test.
    /// </summary>
    private static readonly Dictionary<string, string> KnownDifferences = new(StringComparer.Ordinal)
    {
        ["libarchive_test_test_read_format_gtar_filename_cp866.tar.Z"] = NotUtf8,
        ["libarchive_test_test_read_format_gtar_filename_eucjp.tar.Z"] = NotUtf8,
        ["libarchive_test_test_read_format_gtar_filename_koi8r.tar.Z"] = NotUtf8,
        ["libarchive_test_test_read_format_tar_filename_koi8r.tar.Z"] = NotUtf8,
        ["libarchive_test_test_read_format_ustar_filename_cp866.tar.Z"] = NotUtf8,
        ["libarchive_test_test_read_format_ustar_filename_eucjp.tar.Z"] = NotUtf8,
        ["libarchive_test_test_read_format_ustar_filename_koi8r.tar.Z"] = NotUtf8,
        ["libarchive_test_test_pax_filename_encoding.tar"] = NotUtf8 + "; bsdtar refuses a PAX name it cannot convert",
        ["libarchive_test_test_compat_solaris_tar_acl.tar"] = "Solaris ACL entries ('A'): Go's archive/tar returns them as entries of an unknown type, which containerd and docker refuse, as Strata does",
        ["libarchive_test_test_read_format_tar_empty_with_gnulabel.tar"] = "GNU volume labels ('V'): Go's archive/tar returns them as entries of an unknown type, which containerd and docker refuse, as Strata does",
        ["libarchive_test_test_compat_star_acl_posix1e.tar"] = "bsdtar takes a file's group bits from its ACL, Go and Strata from the header's mode",
        ["libarchive_test_test_read_format_tar_timestamp_overflow.tar"] = "a size field with leading NULs: Go's parseOctal trims them and reads 14 bytes of data, as Strata does; bsdtar stops at the first NUL and reads 0",
        ["libarchive_test_test_read_format_gtar_sparse_1_17_posix10_modified.tar"] = "'#' comment lines in a GNU sparse 1.0 map: only libarchive accepts them (GNU tar never writes them); Go's archive/tar refuses the map, as Strata does",
        ["libarchive_test_test_read_format_tar_V_negative_size.tar"] = "a negative size: Go's archive/tar refuses it (ErrHeader), as Strata does; bsdtar ends the archive there",
        ["libarchive_test_test_read_format_tar_empty_filename.tar"] = "an entry with an empty name: bsdtar skips it with an error, Go and Strata read it as the root directory",
    };

    private const string NotUtf8 = "names are not kept byte for byte yet (issue 13, non-UTF-8 names)";

    [Fact]
    [Trait("Corpus", "libarchive")]
    public void CorpusExtractsAsBsdtarDoes()
    {
        string? corpus = Environment.GetEnvironmentVariable("STRATA_TAR_CORPUS");
        Assert.False(string.IsNullOrEmpty(corpus), "STRATA_TAR_CORPUS must name a directory of libarchive's test archives (*.uu or decoded): see scripts/tar-corpus.sh");
        using var sh = new Shell();
        var report = new StringBuilder();
        int total = 0, differing = 0;
        var unexpected = new List<string>();
        foreach (var file in Directory.EnumerateFiles(corpus!).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(file);
            string plainName = name.EndsWith(".uu", StringComparison.Ordinal) ? name[..^3] : name;
            if (!TarName().IsMatch(plainName))
                continue;
            total++;
            string path = sh.P(plainName);
            File.WriteAllBytes(path, name == plainName ? File.ReadAllBytes(file) : UuDecode(File.ReadAllLines(file, Encoding.Latin1)));
            string scratch = sh.P(plainName + ".d");
            Directory.CreateDirectory(scratch);
            string? difference = BsdtarComparison.Compare(path, scratch, out _, out _);
            if (difference == null)
                continue;
            differing++;
            report.AppendLine($"{plainName}: {difference}");
            if (!KnownDifferences.ContainsKey(plainName))
                unexpected.Add(plainName);
        }
        string summary = $"{differing} of {total} archives differ from bsdtar, {unexpected.Count} of them not known:\n{report}";
        TestContext.Current.SendDiagnosticMessage(summary);
        Assert.True(total > 0, "no tar archive in " + corpus);
        Assert.True(unexpected.Count == 0, summary);
    }

    /// <summary>libarchive's test archives: *.tar and *.ustar, compressed or not.</summary>
    [GeneratedRegex(@"\.(tar|ustar)(\.|$)")]
    private static partial Regex TarName();

    /// <summary>uudecode: after "begin MODE NAME", each line's first char gives its byte count, then 4 chars per 3 bytes.</summary>
    internal static byte[] UuDecode(IEnumerable<string> lines)
    {
        var output = new List<byte>();
        bool started = false;
        foreach (var line in lines)
        {
            if (!started)
            {
                started = line.StartsWith("begin ", StringComparison.Ordinal);
                continue;
            }
            if (line == "end")
                break;
            if (line.Length == 0)
                continue;
            int count = (line[0] - ' ') & 63;
            var bytes = new List<byte>(count + 2);
            for (int i = 1; bytes.Count < count && i + 3 < line.Length + 3; i += 4)
            {
                int Six(int at) => at < line.Length ? (line[at] - ' ') & 63 : 0;
                int v = Six(i) << 18 | Six(i + 1) << 12 | Six(i + 2) << 6 | Six(i + 3);
                bytes.Add((byte)(v >> 16));
                bytes.Add((byte)(v >> 8));
                bytes.Add((byte)v);
            }
            output.AddRange(bytes.Take(count));
        }
        Assert.True(started, "no uuencoded data");
        return [.. output];
    }

    [Fact]
    public void UuDecodeReadsWhatUuencodeWrites()
    {
        var data = new byte[1000];
        new Random(5).NextBytes(data);
        // Python's binascii writes the same lines as uuencode(1); the test decodes them and must get the bytes back.
        using var sh = new Shell();
        File.WriteAllBytes(sh.P("data"), data);
        sh.Run("python3 -c \"import binascii,sys; d=open('data','rb').read(); sys.stdout.write('begin 644 data\\n' + ''.join(binascii.b2a_uu(d[i:i+45]).decode() for i in range(0, len(d), 45)) + '\\`\\nend\\n')\" > data.uu");
        Assert.Equal(data, UuDecode(File.ReadAllLines(sh.P("data.uu"), Encoding.Latin1)));
    }
}
