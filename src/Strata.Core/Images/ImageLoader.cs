using System.Text.Json;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Images;

/// <summary>
/// Loads images from an OCI image layout (directory or tar) or a docker-save archive. Blobs are verified as
/// they enter the store; the image record is written last, in one transaction, so a failed load names nothing.
/// </summary>
internal sealed class ImageLoader(StrataStore store)
{
    private const long MaxMetadataSize = 16 << 20;

    public IReadOnlyList<LoadedImage> Load(string path, CancellationToken cancellationToken = default)
    {
        if (Directory.Exists(path)) return LoadLayout(path, new LayoutBlobSource(path));
        if (!File.Exists(path)) throw StrataException.NotFound($"no such file or directory: {path}");
        using var file = Native.UnlockedFile.OpenRead(path);
        return LoadArchive(file, path, cancellationToken);
    }

    /// <summary>Loads a docker or OCI archive from a stream (docker load reads standard input).</summary>
    public IReadOnlyList<LoadedImage> Load(Stream archive, string name, CancellationToken cancellationToken = default) =>
        LoadArchive(archive, name, cancellationToken);

    private IReadOnlyList<LoadedImage> LoadLayout(string dir, IBlobSource source)
    {
        var layoutFile = Path.Combine(dir, "oci-layout");
        var indexFile = Path.Combine(dir, "index.json");
        if (!File.Exists(layoutFile) || !File.Exists(indexFile))
            throw StrataException.Invalid($"{dir} is not an OCI image layout (oci-layout or index.json missing)");
        CheckLayoutHeader(Native.UnlockedFile.ReadAllBytes(layoutFile));
        var importer = new ImageImporter(store, source, replaceDamaged: true);
        try
        {
            return importer.ImportIndex(ReadBounded(indexFile), namesFromRefs: true);
        }
        catch
        {
            // Nothing names what a failed load brought in: take it out again.
            foreach (var d in importer.Added) store.Content.Delete(d);
            throw;
        }
    }

    private IReadOnlyList<LoadedImage> LoadArchive(Stream archive, string path, CancellationToken cancellationToken)
    {
        // One pass over the archive: every member file goes into the store (verified by name when it is a
        // blobs/ALG/HEX path); the small metadata files are kept aside. Unreferenced new blobs go at the end.
        var files = new Dictionary<string, (Digest Digest, long Size)>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var added = new HashSet<Digest>();
        var referenced = new HashSet<Digest>();
        try
        {
        using (var raw = Archive.Compression.LayerStreams.OpenDecompressed(archive, out _, leaveOpen: true))
        using (var reader = new TarReader(raw))
        {
            while (reader.Next() is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (entry.Type is TarEntryType.Symlink or TarEntryType.HardLink)
                {
                    links[entry.Name] = entry.Type == TarEntryType.Symlink
                        ? NormalizeRelative(Path.GetDirectoryName(entry.Name) ?? "", entry.LinkName)
                        : entry.LinkName;
                    continue;
                }
                if (entry.Type != TarEntryType.Regular || entry.Data is null) continue;
                if (entry.Name is "manifest.json" or "index.json" or "oci-layout" or "repositories")
                {
                    if (entry.Size > MaxMetadataSize) throw StrataException.Invalid($"{entry.Name} in {path} is too large");
                    var buf = new byte[entry.Size];
                    entry.Data.ReadExactly(buf);
                    metadata[entry.Name] = buf;
                    continue;
                }
                Digest? expected = BlobNameDigest(entry.Name);
                bool existed = expected is { } e0 && store.Content.Exists(e0);
                if (existed && store.Content.Rehash(expected!.Value) != expected.Value)
                {
                    store.Content.Delete(expected.Value); // bit rot: the archive's copy replaces it
                    existed = false;
                }
                var (digest, size) = existed
                    ? (expected!.Value, entry.Size)
                    : store.Content.IngestAsync(entry.Data, expected, entry.Size, cancellationToken).GetAwaiter().GetResult();
                if (!existed) added.Add(digest);
                files[entry.Name] = (digest, size);
            }
        }

            var importer = new ImageImporter(store, new StoreBlobSource(store.Content));
            try
            {
                if (metadata.TryGetValue("index.json", out var index))
                {
                    if (metadata.TryGetValue("oci-layout", out var header)) CheckLayoutHeader(header);
                    return importer.ImportIndex(index, namesFromRefs: true, dockerManifest: metadata.GetValueOrDefault("manifest.json"));
                }
                if (metadata.TryGetValue("manifest.json", out var dockerManifest))
                    return importer.ImportDockerArchive(dockerManifest, name => Lookup(files, links, name));
                throw StrataException.Invalid($"{path} is neither an OCI archive (index.json) nor a docker archive (manifest.json)");
            }
            finally
            {
                referenced.UnionWith(importer.Referenced);
                added.UnionWith(importer.Added);
            }
        }
        catch
        {
            // Nothing names what a failed load brought in: take it out again.
            referenced.Clear();
            throw;
        }
        finally
        {
            foreach (var d in added)
                if (!referenced.Contains(d)) store.Content.Delete(d);
        }
    }

    private static (Digest Digest, long Size) Lookup(Dictionary<string, (Digest, long)> files, Dictionary<string, string> links, string name)
    {
        name = name.TrimStart('.', '/');
        for (int hops = 0; hops < 16; hops++)
        {
            if (files.TryGetValue(name, out var f)) return f;
            if (!links.TryGetValue(name, out var target)) break;
            name = target;
        }
        throw StrataException.Invalid($"docker archive names a file it does not contain: {name}");
    }

    private static string NormalizeRelative(string dir, string target)
    {
        var parts = new List<string>();
        foreach (var p in (target.StartsWith('/') ? target : dir + "/" + target).Split('/'))
        {
            if (p is "" or ".") continue;
            if (p == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(p);
        }
        return string.Join('/', parts);
    }

    private static Digest? BlobNameDigest(string name)
    {
        var parts = name.Split('/');
        if (parts.Length == 3 && parts[0] == "blobs")
        {
            if (!Digest.TryParse($"{parts[1]}:{parts[2]}", out var d, out var why))
                throw StrataException.Invalid($"archive member {name} is not a valid blob name: {why}");
            return d;
        }
        return null;
    }

    private static void CheckLayoutHeader(byte[] raw)
    {
        OciLayoutHeader? header;
        try { header = JsonSerializer.Deserialize(raw, OciJsonContext.Default.OciLayoutHeader); }
        catch (JsonException e) { throw StrataException.Invalid($"oci-layout is not valid JSON: {e.Message}"); }
        if (header is null || !header.ImageLayoutVersion.StartsWith("1.", StringComparison.Ordinal))
            throw StrataException.Unsupported($"unsupported image layout version {header?.ImageLayoutVersion}");
    }

    private static byte[] ReadBounded(string file)
    {
        var info = new FileInfo(file);
        if (info.Length > MaxMetadataSize) throw StrataException.Invalid($"{file} is too large");
        return Native.UnlockedFile.ReadAllBytes(file);
    }
}

/// <summary>What a load brought in: the image and the names it was given.</summary>
public sealed record LoadedImage(Digest Id, Digest ManifestDigest, IReadOnlyList<string> Names);

/// <summary>Blobs already ingested into the store (archives are streamed in before their index is read).</summary>
internal sealed class StoreBlobSource(ContentStore content) : IBlobSource
{
    public Stream? TryOpen(Digest digest) => content.Exists(digest) ? content.OpenRead(digest) : null;
}
