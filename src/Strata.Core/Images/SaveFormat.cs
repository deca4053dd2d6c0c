namespace Strata.Images;

public enum SaveFormat
{
    OciDir,
    OciArchive,
    DockerArchive,
}
