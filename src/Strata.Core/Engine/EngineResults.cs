using Strata.Oci;
using Strata.Storage;
using Strata.Union;

namespace Strata.Engine;

/// <summary>A stored image as inspect shows it: its record, documents as stored, and each layer's unpacked size.</summary>
public sealed record ImageDetails(
    ImageRecord Record,
    ImageManifest Manifest,
    ImageConfig Config,
    ReadOnlyMemory<byte> RawManifest,
    ReadOnlyMemory<byte> RawConfig,
    IReadOnlyList<long?> LayerUncompressedSizes)
{
    /// <summary>The image's ID (its config's digest).</summary>
    public Digest Id => Record.Id;
}

/// <summary>What removing one image did: names taken off it, and its ID when the image itself went.</summary>
public sealed record ImageRemoval(IReadOnlyList<string> Untagged, Digest? Deleted);

/// <summary>What garbage collection freed.</summary>
public sealed record PruneResult(int Blobs, long Bytes);

/// <summary>A container as ps lists it.</summary>
public sealed record ContainerSummary(Container Container, string ImageName, bool Mounted)
{
    /// <summary>Its FUSE mount's daemon died, and the store could not be written to take the mount off (a read-only store).</summary>
    public bool MountDead { get; init; }
}

/// <summary>What an import or a commit should name and say.</summary>
public sealed record ImportOptions
{
    /// <summary>A name for the new image (registry/repository:tag), or null for none.</summary>
    public string? Reference { get; init; }

    /// <summary>The history entry's comment.</summary>
    public string? Comment { get; init; }

    /// <summary>Fixes every timestamp (reproducible builds' SOURCE_DATE_EPOCH, in seconds).</summary>
    public long? SourceDateEpoch { get; init; }
}

/// <summary>docker commit's options.</summary>
public sealed record CommitOptions
{
    /// <summary>A name for the new image, or null for none.</summary>
    public string? Reference { get; init; }

    /// <summary>The history entry's comment.</summary>
    public string? Message { get; init; }

    /// <summary>The image's and the history entry's author.</summary>
    public string? Author { get; init; }

    /// <summary>Dockerfile instructions applied to the config (CMD, ENV, LABEL, ...).</summary>
    public IReadOnlyList<string> Changes { get; init; } = [];

    /// <summary>None by default, as podman keeps committed layers: saving or pushing can compress.</summary>
    public Compression Compression { get; init; } = Compression.None;
}

/// <summary>One problem a store check found.</summary>
/// <param name="Subject">What it concerns ("blob sha256:...", "image NAME", "container NAME", "snapshot KEY").</param>
/// <param name="Problem">What is wrong, in a few words.</param>
/// <param name="Repaired">Whether the check's repair dealt with it.</param>
public sealed record StoreProblem(string Subject, string Problem, bool Repaired);

/// <summary>What a store check found, and the images its repair removed.</summary>
/// <param name="Problems">Each problem, in the order found.</param>
/// <param name="RemovedImages">Images the repair removed as unusable.</param>
public sealed record CheckReport(IReadOnlyList<StoreProblem> Problems, IReadOnlyList<Digest> RemovedImages);
