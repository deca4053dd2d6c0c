using Strata.Archive.Tar;
using static Strata.Tests.Archive.RawTar;

namespace Strata.Tests.Archive;

/// <summary>
/// Archives other tools read one way and Strata read another (found on libarchive's test archives): each case
/// is rebuilt here byte for byte and must read as Go's archive/tar and bsdtar read it.
/// </summary>
public class TarFidelityTests
{
    private static readonly byte[] Next = "next entry\n"u8.ToArray();

    private static List<(TarEntry Entry, byte[]? Data)> Read(byte[] tar) => TarTestData.ReadAll(new TarReaderTests.NonSeekable(tar));

    // Go's isHeaderOnlyType and libarchive's header_common: these types have no data section, whatever
    // the size field says; reading size bytes would swallow the entries after them.
    [Theory]
    [InlineData('5')]
    [InlineData('2')]
    [InlineData('1')]
    [InlineData('3')]
    [InlineData('4')]
    [InlineData('6')]
    public void HeaderOnlyEntryWithASizeCarriesNoData(char type)
    {
        // TarEntryType's values are the type flags.
        var expected = (TarEntryType)type;
        string link = type is '1' or '2' ? "target" : "";
        foreach (bool ustar in new[] { true, false })
        {
            var all = Read(Concat(Header("target", '0'), Header("odd", type, 700, link, ustar),
                Header("next", '0', Next.Length), Data(Next), End));
            Assert.Equal(["target", "odd", "next"], all.Select(x => x.Entry.Name));
            Assert.Equal(expected, all.Find("odd").Type);
            Assert.Null(all.Single(x => x.Entry.Name == "odd").Data);
            Assert.Equal(Next, all.DataOf("next"));
        }
    }

    // libarchive's test_compat_tar_directory_1: a V7 directory (type NUL, trailing slash) of size 1 followed
    // by a ustar directory and no end marker. Go turns a NUL-typed name ending in '/' into TypeDir before
    // sizing its data, bsdtar does the same for any regular type: no data either way, so directory2 is kept.
    [Fact]
    public void test_compat_tar_directory_1()
    {
        var all = Read(Concat(Header("directory1/", '\0', 1, ustar: false, mode: 0b111_000_000),
            Header("directory2/", '5', 0, ustar: false, mode: 0b111_000_000)));
        Assert.Equal(["directory1", "directory2"], all.Select(x => x.Entry.Name));
        Assert.All(all, x => Assert.Equal(TarEntryType.Directory, x.Entry.Type));
    }

    // Where the tools differ: a '0' or '7' entry named with a trailing slash is a directory without data for
    // bsdtar (any regular type), while Go's archive/tar turns only a NUL type into a directory and reads the
    // others as regular files of that size. Strata has always read them as directories; it now reads them
    // as bsdtar does, so its next entry is the next header.
    [Theory]
    [InlineData('0')]
    [InlineData('7')]
    public void RegularTypeWithATrailingSlashIsADirectoryWithoutDataAsInBsdtar(char type)
    {
        var all = Read(Concat(Header("d/", type, 3), Header("next", '0', Next.Length), Data(Next), End));
        Assert.Equal(TarEntryType.Directory, all.Find("d").Type);
        Assert.Equal(Next, all.DataOf("next"));
    }

    // libarchive's test_compat_tar_hardlink_1: an old-style hard link whose size repeats its target's (321)
    // is the last header of the archive, with no end marker after it. It carries no data: not truncated.
    [Fact]
    public void test_compat_tar_hardlink_1()
    {
        var content = Enumerable.Repeat((byte)'x', 321).ToArray();
        var all = Read(Concat(Header("xmcd-3.3.2/docs_d/READMf", '0', 321, ustar: false), Data(content),
            Header("xmcd-3.3.2/README", '1', 321, "xmcd-3.3.2/docs_d/READMf", ustar: false)));
        Assert.Equal(content, all.DataOf("xmcd-3.3.2/docs_d/READMf"));
        var link = all.Find("xmcd-3.3.2/README");
        Assert.Equal(TarEntryType.HardLink, link.Type);
        Assert.Equal("xmcd-3.3.2/docs_d/READMf", link.LinkName);
    }

    // Where the tools differ: bsdtar reads data after a hard link whose PAX header gives it a size, Go's
    // archive/tar (containerd, docker, podman) never does. Strata reads layers as those runtimes do.
    [Fact]
    public void PaxHardLinkWithASizeCarriesNoDataAsInGo()
    {
        var all = Read(Concat(Header("target", '0'), Pax(("size", "700")), Header("link", '1', 0, "target"),
            Header("next", '0', Next.Length), Data(Next), End));
        Assert.Equal(["target", "link", "next"], all.Select(x => x.Entry.Name));
        Assert.Equal(Next, all.DataOf("next"));
    }

    // A GNU dumpdir ('D') is a directory whose data lists its files (Go and bsdtar both skip that data).
    [Fact]
    public void GnuDumpdirDataIsStillSkipped()
    {
        var list = "Yfile\0\0"u8.ToArray();
        var all = Read(Concat(Header("d/", 'D', list.Length), Data(list), Header("next", '0', Next.Length), Data(Next), End));
        Assert.Equal(TarEntryType.Directory, all.Find("d").Type);
        Assert.Equal(Next, all.DataOf("next"));
    }

    // libarchive's test_pax_xattr_header_libarchive: bsdtar writes LIBARCHIVE.xattr values in base64 without
    // padding. Go's archive/tar ignores these records; bsdtar's reader decodes them, so Strata does as bsdtar.
    [Fact]
    public void test_pax_xattr_header_libarchive()
    {
        var all = Read(Concat(Pax(("LIBARCHIVE.xattr.user.data1", "QUJDREVGRw"), ("LIBARCHIVE.xattr.user.data2", "WFla")),
            Header("file", '0'), End));
        var xattrs = all.Find("file").Xattrs;
        Assert.Equal("ABCDEFG"u8.ToArray(), xattrs["user.data1"]);
        Assert.Equal("XYZ"u8.ToArray(), xattrs["user.data2"]);
    }

    [Fact]
    public void LibarchiveBase64DecodesAsBsdtarDoes()
    {
        var rng = new Random(13);
        for (int length = 0; length < 40; length++)
        {
            var bytes = new byte[length];
            rng.NextBytes(bytes);
            string padded = Convert.ToBase64String(bytes);
            Assert.Equal(bytes, PaxHeader.DecodeLibarchiveBase64(System.Text.Encoding.ASCII.GetBytes(padded)));
            Assert.Equal(bytes, PaxHeader.DecodeLibarchiveBase64(System.Text.Encoding.ASCII.GetBytes(padded.TrimEnd('='))));
        }
        // libarchive's base64_decode skips characters outside the alphabet, stops at '=' or '_', and drops a lone last character.
        Assert.Equal("ABCDEFG"u8.ToArray(), PaxHeader.DecodeLibarchiveBase64("QUJD\nREV GRw"u8));
        Assert.Equal("ABC"u8.ToArray(), PaxHeader.DecodeLibarchiveBase64("QUJD_REVGRw"u8));
        Assert.Equal("ABC"u8.ToArray(), PaxHeader.DecodeLibarchiveBase64("QUJDR"u8));
    }

    // libarchive's test_read_format_tar_pax_large_attr: bsdtar refuses a PAX header over 1 MiB ("Special header
    // too large"), Go's archive/tar too (maxSpecialFileSize, ErrFieldTooLong); one just under is read.
    [Theory]
    [InlineData(1 << 20, true)]
    [InlineData((1 << 20) + 1, false)]
    public void test_read_format_tar_pax_large_attr(int headerSize, bool accepted)
    {
        const string prefix = "9999999 comment=";
        var record = new string('c', headerSize - prefix.Length - 1);
        var body = System.Text.Encoding.ASCII.GetBytes($"{headerSize} comment={record}\n");
        Assert.Equal(headerSize, body.Length);
        byte[] tar = Concat(Header("PaxHeaders/f", 'x', body.Length), Data(body), Header("f", '0'), End);
        if (accepted)
        {
            Assert.Equal("f", Assert.Single(Read(tar)).Entry.Name);
            return;
        }
        var ex = Assert.Throws<Strata.Errors.StrataException>(() => Read(tar));
        Assert.Equal(Strata.Errors.ErrorKind.InvalidContent, ex.Kind);
        Assert.Contains("extended header of", ex.Message);
    }
}
