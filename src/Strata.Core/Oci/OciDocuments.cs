using System.Text.Json;
using Strata.Errors;

namespace Strata.Oci;

/// <summary>Parses OCI documents from raw bytes, with the checks the spec and its CVEs ask for.</summary>
internal static class OciDocuments
{
    public static ImageManifest ParseManifest(ReadOnlySpan<byte> raw, string? expectedMediaType = null)
    {
        var probe = Probe(raw, "manifest");
        if (probe.Manifests is not null)
            throw StrataException.Invalid("manifest is ambiguous: it has both \"manifests\" and image fields");
        if (probe.Config is null || probe.Layers is null)
            throw StrataException.Invalid("not an image manifest: \"config\" or \"layers\" missing");
        CheckMediaType(probe.MediaType, expectedMediaType, "manifest");
        var m = Deserialize(raw, OciJsonContext.Default.ImageManifest, "manifest");
        if (m.SchemaVersion != 2) throw StrataException.Invalid($"manifest schemaVersion {m.SchemaVersion} is not supported");
        foreach (var d in m.Layers.Append(m.Config)) CheckDescriptor(d, "manifest");
        return m;
    }

    public static ImageIndex ParseIndex(ReadOnlySpan<byte> raw, string? expectedMediaType = null)
    {
        var probe = Probe(raw, "index");
        if (probe.Config is not null || probe.Layers is not null)
            throw StrataException.Invalid("index is ambiguous: it has both \"manifests\" and image fields");
        if (probe.Manifests is null) throw StrataException.Invalid("not an image index: \"manifests\" missing");
        CheckMediaType(probe.MediaType, expectedMediaType, "index");
        var idx = Deserialize(raw, OciJsonContext.Default.ImageIndex, "index");
        if (idx.SchemaVersion != 2) throw StrataException.Invalid($"index schemaVersion {idx.SchemaVersion} is not supported");
        foreach (var d in idx.Manifests) CheckDescriptor(d, "index");
        return idx;
    }

    public static ImageConfig ParseConfig(ReadOnlySpan<byte> raw)
    {
        var c = Deserialize(raw, OciJsonContext.Default.ImageConfig, "image config");
        if (c.RootFs.Type != "layers") throw StrataException.Invalid($"image config rootfs.type \"{c.RootFs.Type}\" is not \"layers\"");
        return c;
    }

    /// <summary>Tells manifest from index by its fields when the media type is absent.</summary>
    public static bool IsIndex(ReadOnlySpan<byte> raw, string? mediaType)
    {
        if (MediaTypes.IsIndex(mediaType)) return true;
        if (MediaTypes.IsManifest(mediaType)) return false;
        return Probe(raw, "manifest").Manifests is not null;
    }

    private static DocumentProbe Probe(ReadOnlySpan<byte> raw, string what) =>
        Deserialize(raw, OciJsonContext.Default.DocumentProbe, what);

    private static void CheckMediaType(string? actual, string? expected, string what)
    {
        if (expected is not null && actual is not null && actual != expected)
            throw StrataException.Invalid($"{what} mediaType {actual} does not match {expected}");
    }

    private static void CheckDescriptor(Descriptor d, string what)
    {
        if (d.Digest.IsDefault) throw StrataException.Invalid($"{what}: descriptor without a digest");
        if (d.Size < 0) throw StrataException.Invalid($"{what}: descriptor {d.Digest} has a negative size");
        if (d.Data is not null && (d.Data.Length != d.Size || (d.Digest.IsVerifiable && d.Digest.Compute(d.Data) != d.Digest)))
            throw StrataException.Invalid($"{what}: descriptor {d.Digest} embeds data that does not match it");
    }

    private static T Deserialize<T>(ReadOnlySpan<byte> raw, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(raw, info) ?? throw StrataException.Invalid($"{what} is JSON null");
        }
        catch (JsonException e)
        {
            throw StrataException.Invalid($"{what} is not valid JSON: {e.Message}");
        }
    }

    /// <summary>
    /// Compact JSON as Go tools write it: '+' in media types and '&lt;' '&gt;' in commands stay literal (the
    /// default encoder would write \u002B). Only new documents are serialized; stored ones keep their bytes.
    /// </summary>
    public static byte[] Serialize<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) =>
        JsonSerializer.SerializeToUtf8Bytes(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)Relaxed.GetTypeInfo(info.Type)!);

    private static readonly OciJsonContext Relaxed = new(new JsonSerializerOptions(OciJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
