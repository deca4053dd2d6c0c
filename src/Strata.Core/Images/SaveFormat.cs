namespace Strata.Images;

/// <summary>What save writes.</summary>
public enum SaveFormat
{
    /// <summary>An OCI image layout directory (merged into an existing one).</summary>
    OciDir,
    /// <summary>An OCI image layout as a tar.</summary>
    OciArchive,
    /// <summary>A docker save tar (manifest.json, uncompressed layers).</summary>
    DockerArchive,
}
