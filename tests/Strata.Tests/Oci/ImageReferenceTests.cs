using Strata.Errors;
using Strata.Oci;

namespace Strata.Tests.Oci;

public class ImageReferenceTests
{
    [Theory]
    [InlineData("busybox", "docker.io/library/busybox:latest")]
    [InlineData("busybox:1.36", "docker.io/library/busybox:1.36")]
    [InlineData("library/busybox", "docker.io/library/busybox:latest")]
    [InlineData("docker.io/busybox", "docker.io/library/busybox:latest")]
    [InlineData("index.docker.io/library/busybox", "docker.io/library/busybox:latest")]
    [InlineData("user/app", "docker.io/user/app:latest")]
    [InlineData("localhost/app", "localhost/app:latest")]
    [InlineData("localhost:5000/team/app:v1", "localhost:5000/team/app:v1")]
    [InlineData("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest")]
    [InlineData("quay.io/a/b/c:t", "quay.io/a/b/c:t")]
    [InlineData("my_app__x/a-b.c:T_1.x-y", "docker.io/my_app__x/a-b.c:T_1.x-y")]
    public void NormalizesLikeDocker(string input, string expected) =>
        Assert.Equal(expected, ImageReference.Parse(input).ToString());

    [Fact]
    public void DigestReferenceHasNoDefaultTag()
    {
        var r = ImageReference.Parse("busybox@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        Assert.Null(r.Tag);
        Assert.Equal("docker.io/library/busybox@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", r.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("Busybox")]
    [InlineData("busybox:")]
    [InlineData("busybox:-bad")]
    [InlineData("a//b")]
    [InlineData("a/b/")]
    [InlineData("-a")]
    [InlineData("a@sha256:123")]
    [InlineData("a b")]
    public void RejectsInvalid(string input)
    {
        Assert.False(ImageReference.TryParse(input, out _));
        Assert.Throws<StrataException>(() => ImageReference.Parse(input));
    }
}
