using Strata.Errors;
using Strata.Oci;

namespace Strata.Tests.Oci;

public class DocumentTests
{
    private const string Manifest = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},
         "layers":[],"futureField":{"x":1}}
        """;

    [Fact]
    public void ManifestRoundTripKeepsUnknownFields()
    {
        var m = OciDocuments.ParseManifest(System.Text.Encoding.UTF8.GetBytes(Manifest));
        var again = System.Text.Encoding.UTF8.GetString(OciDocuments.Serialize(m, OciJsonContext.Default.ImageManifest));
        Assert.Contains("\"futureField\":{\"x\":1}", again);
    }

    [Fact]
    public void AmbiguousDocumentIsRejected()
    {
        var bad = Manifest.Replace("\"layers\":[]", "\"layers\":[],\"manifests\":[]");
        var e = Assert.Throws<StrataException>(() => OciDocuments.ParseManifest(System.Text.Encoding.UTF8.GetBytes(bad)));
        Assert.Contains("ambiguous", e.Message);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"schemaVersion\":2}")]
    [InlineData("null")]
    public void NonManifestIsAClearError(string json)
    {
        var e = Assert.Throws<StrataException>(() => OciDocuments.ParseManifest(System.Text.Encoding.UTF8.GetBytes(json)));
        Assert.Equal(ErrorKind.InvalidContent, e.Kind);
    }
}

public class SerializationTests
{
    [Fact]
    public void MediaTypesAreWrittenLiterallyAsGoDoes()
    {
        var m = new ImageManifest { MediaType = MediaTypes.OciManifest, Config = Descriptor.For(MediaTypes.OciConfig, "{}"u8) };
        var json = System.Text.Encoding.UTF8.GetString(OciDocuments.Serialize(m, OciJsonContext.Default.ImageManifest));
        Assert.Contains("\"application/vnd.oci.image.manifest.v1+json\"", json);
        Assert.DoesNotContain("\\u", json);
    }
}
