using Strata.Native;

namespace Strata.Archive;

internal sealed class ApplyOptions
{
    /// <summary>Apply owners from the layer (needs root); otherwise files belong to the caller.</summary>
    public bool PreserveOwnership { get; init; } = Libc.GetEuid() == 0;

    /// <summary>How whiteouts land: removing lower content (a flattened rootfs), or as overlayfs markers.</summary>
    public WhiteoutMode Whiteouts { get; init; } = WhiteoutMode.Remove;

    /// <summary>
    /// Overlay mode: the lower layers' directories, top first. A directory this layer makes only as a parent
    /// takes its attributes from the topmost lower that has it, since overlayfs shows the top copy's.
    /// </summary>
    public IReadOnlyList<string> LowerDirectories { get; init; } = [];

    /// <summary>Overlay mode without privilege: owners, modes, devices and foreign xattrs as <see cref="RootlessForm"/> keeps them.</summary>
    public bool Rootless { get; init; }
}

internal enum WhiteoutMode
{
    /// <summary>Apply onto the lower layers' content: whiteouts delete, opaque markers empty directories.</summary>
    Remove,

    /// <summary>
    /// Apply into a layer's own empty directory for the kernel's overlayfs: ".wh.NAME" becomes a char 0/0 device,
    /// an opaque marker the trusted.overlay.opaque=y xattr (as moby's overlay2 and containers/storage store layers).
    /// </summary>
    Overlay,
}

internal sealed class ApplyResult
{
    public long Entries { get; internal set; }
    public long Bytes { get; internal set; }
    public List<string> Warnings { get; } = [];
}
