using Strata.Native;

namespace Strata.Archive;

public sealed class ApplyOptions
{
    /// <summary>Apply owners from the layer (needs root); otherwise files belong to the caller.</summary>
    public bool PreserveOwnership { get; init; } = Libc.GetEuid() == 0;
}

public sealed class ApplyResult
{
    public long Entries { get; internal set; }
    public long Bytes { get; internal set; }
    public List<string> Warnings { get; } = [];
}
