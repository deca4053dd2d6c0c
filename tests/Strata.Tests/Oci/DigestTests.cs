using Strata.Errors;
using Strata.Oci;

namespace Strata.Tests.Oci;

public class DigestTests
{
    private const string EmptySha = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Sha256OfEmptyIsTheKnownValue() => Assert.Equal(EmptySha, Digest.Sha256([]).ToString());

    [Theory]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")] // upper case
    [InlineData("sha256:e3b0")]                                                             // short
    [InlineData("sha256:../../../../etc/passwd")]                                           // path (CVE-2024-3727)
    [InlineData("sha256")]
    [InlineData(":abc")]
    [InlineData("SHA256:abc")]
    [InlineData("sha256+:abc")]
    [InlineData("sha512:abcd")]
    public void RejectsInvalid(string s)
    {
        Assert.False(Digest.TryParse(s, out _));
        Assert.Throws<StrataException>(() => Digest.Parse(s));
    }

    [Theory]
    [InlineData(EmptySha)]
    [InlineData("blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")]
    [InlineData("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8")]
    public void AcceptsGrammarValid(string s) => Assert.Equal(s, Digest.Parse(s).ToString());

    [Fact]
    public void ChainIdFollowsTheSpec()
    {
        var a = Digest.Sha256("a"u8);
        var b = Digest.Sha256("b"u8);
        var chain = ChainId.Compute([a, b]);
        Assert.Equal(a, chain[0]);
        Assert.Equal(Digest.Sha256(System.Text.Encoding.ASCII.GetBytes($"{a} {b}")), chain[1]);
    }
}
