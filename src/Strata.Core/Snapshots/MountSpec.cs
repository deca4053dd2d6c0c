namespace Strata.Snapshots;

/// <summary>
/// One mount as containerd describes it: a file-system type, a source and mount(8) options. Strata mounts
/// <c>overlay</c> (options lowerdir=A:B (top first), upperdir=, workdir=; none of them: read-only) and
/// <c>bind</c> (options ro or rw); whoever mounts it picks the kernel, the FUSE union, or none.
/// </summary>
/// <param name="Type">"overlay" or "bind".</param>
/// <param name="Source">What is mounted: a directory for bind, "overlay" for overlay.</param>
/// <param name="Options">mount(8) options, one per item.</param>
public sealed record MountSpec(string Type, string Source, IReadOnlyList<string> Options)
{
    /// <summary>An overlay of directories: <paramref name="lowersTopFirst"/>, with an upper and work directory when writable.</summary>
    public static MountSpec Overlay(IReadOnlyList<string> lowersTopFirst, string? upper = null, string? work = null)
    {
        ArgumentNullException.ThrowIfNull(lowersTopFirst);
        if ((upper is null) != (work is null)) throw new ArgumentException("an upper directory needs a work directory, and only then");
        List<string> options = ["lowerdir=" + string.Join(':', lowersTopFirst)];
        if (upper is not null) options.AddRange(["upperdir=" + upper, "workdir=" + work]);
        return new MountSpec("overlay", "overlay", options);
    }

    /// <summary>A directory as it is.</summary>
    public static MountSpec Bind(string directory, bool readOnly) => new("bind", directory, ["rbind", readOnly ? "ro" : "rw"]);

    /// <summary>Whether nothing may be written through it.</summary>
    public bool ReadOnly => Type == "overlay" ? Option("upperdir") is null : Options.Contains("ro");

    /// <summary>The value of a key=value option, or null.</summary>
    public string? Option(string key)
    {
        foreach (var o in Options)
            if (o.Length > key.Length && o[key.Length] == '=' && o.StartsWith(key, StringComparison.Ordinal)) return o[(key.Length + 1)..];
        return null;
    }

    /// <summary>An overlay's lower directories, top first; empty for other types.</summary>
    public IReadOnlyList<string> LowerDirs => Type == "overlay" && Option("lowerdir") is { Length: > 0 } l ? l.Split(':') : [];
}
