using Strata.Errors;

namespace Strata.Oci;

/// <summary>Picks an index's image for a platform the way containerd does: os and architecture must match, variant too when asked.</summary>
public static class PlatformMatcher
{
    /// <summary>os/arch[/variant], e.g. linux/arm64/v8.</summary>
    public static Platform Parse(string value)
    {
        var parts = value.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            throw StrataException.BadArgument($"invalid platform \"{value}\": use os/arch[/variant]");
        return new Platform { Os = parts[0], Architecture = parts[1], Variant = parts.Length == 3 ? parts[2] : null };
    }

    internal static Descriptor Select(ImageIndex index, Platform want, Digest indexDigest)
    {
        Descriptor? best = null;
        int bestScore = -1;
        foreach (var m in index.Manifests)
        {
            if (!MediaTypes.IsManifest(m.MediaType) || m.Platform is not { } p) continue;
            if (p.Os != want.Os || p.Architecture != want.Architecture) continue;
            var variant = NormalVariant(p.Architecture, p.Variant);
            int score;
            if (want.Variant is { } wv) score = variant == NormalVariant(want.Architecture, wv) ? 2 : -1;
            else score = variant == NormalVariant(want.Architecture, null) ? 2 : 1;
            if (score > bestScore) { best = m; bestScore = score; }
        }
        if (best is not null) return best;
        // A single image without a platform is taken as it is (some tools write indexes like that).
        if (index.Manifests.Count(m => MediaTypes.IsManifest(m.MediaType)) == 1 && index.Manifests.First(m => MediaTypes.IsManifest(m.MediaType)).Platform is null)
            return index.Manifests.First(m => MediaTypes.IsManifest(m.MediaType));
        var have = string.Join(", ", index.Manifests.Where(m => m.Platform is not null && m.Platform.Os != "unknown").Select(m => m.Platform!.ToString()).Distinct());
        throw StrataException.NotFound($"index {indexDigest.Short} has no image for {want} (it has: {(have.Length == 0 ? "none" : have)})");
    }

    /// <summary>arm64 means v8 when unsaid; 32-bit arm means v7.</summary>
    private static string? NormalVariant(string architecture, string? variant) => architecture switch
    {
        "arm64" => variant ?? "v8",
        "arm" => variant ?? "v7",
        _ => variant,
    };
}
