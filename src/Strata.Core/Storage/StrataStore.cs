using Strata.Errors;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>One store root: content-addressed blobs plus the metadata that names them.</summary>
internal sealed class StrataStore : IDisposable
{
    private StrataStore(string root, ContentStore content, MetadataDb db)
    {
        Root = root;
        Content = content;
        Db = db;
        Images = new ImageStore(Db);
        Snapshots = new SnapshotRecords(Db);
        Containers = new ContainerRecords(Db);
        Mounts = new MountRecords(Db);
        Settings = new StoreSettings(Db);
        BlobSources = new BlobSourceRecords(Db);
    }

    public string Root { get; }
    public ContentStore Content { get; }
    internal MetadataDb Db { get; }
    internal ImageStore Images { get; }
    internal SnapshotRecords Snapshots { get; }
    internal ContainerRecords Containers { get; }
    internal MountRecords Mounts { get; }
    internal StoreSettings Settings { get; }
    internal BlobSourceRecords BlobSources { get; }

    /// <summary>Opens (or makes) the store at root: its directories and its metadata database, migrated if it is old.</summary>
    public static StrataStore Open(string root)
    {
        Directory.CreateDirectory(root);
        var content = ContentStore.Open(root);
        return new StrataStore(root, content, MetadataDb.Open(Path.Combine(root, "strata.db"), root, m => TopChainOf(content, m)));
    }

    /// <summary>For the schema's migration: the top layer's ChainID of the image with this manifest, or null.</summary>
    private static string? TopChainOf(ContentStore content, string manifestDigest)
    {
        try
        {
            var manifest = OciDocuments.ParseManifest(content.ReadAll(Digest.Parse(manifestDigest)));
            var chains = ChainId.Compute(OciDocuments.ParseConfig(content.ReadAll(manifest.Config.Digest)).RootFs.DiffIds);
            return chains.Count > 0 ? chains[^1].ToString() : null;
        }
        catch (Exception e) when (e is StrataException or IOException or FormatException)
        {
            return null; // a container of a damaged image: it stays on no layers (a later check reports it)
        }
    }

    /// <summary>Finds an image by name, full or short ID, or manifest digest.</summary>
    public LocalImage Resolve(string nameOrId)
    {
        var id = ResolveId(nameOrId) ?? throw StrataException.NotFound($"image not known: {nameOrId}");
        try
        {
            return LocalImage.Load(this, Images.Get(id) ?? throw StrataException.NotFound($"image not known: {nameOrId}"));
        }
        catch (StrataException e) when (e.Kind == ErrorKind.NotFound && Images.Get(id) is null)
        {
            // An rmi removed it (and a collection its blobs) between finding it and reading it.
            throw StrataException.NotFound($"image not known: {nameOrId} (it was removed meanwhile)");
        }
    }

    public Digest? ResolveId(string nameOrId)
    {
        var s = nameOrId.StartsWith("sha256:", StringComparison.Ordinal) ? nameOrId[7..] : nameOrId;
        if (s.Length is >= 3 and <= 64 && s.All(char.IsAsciiHexDigitLower))
        {
            var matches = Images.FindByIdPrefix(s);
            if (matches.Count == 1) return matches[0];
            if (matches.Count > 1) throw new StrataException(ErrorKind.Conflict, $"image ID prefix {s} is ambiguous");
            if (s.Length == 64 && Images.FindByManifest(Digest.Parse("sha256:" + s)) is [var byManifest, ..]) return byManifest.Id;
        }
        if (!ImageReference.TryParse(nameOrId, out var reference)) return null;
        if (reference.Digest is { } md)
        {
            var byDigest = Images.FindByManifest(md);
            return byDigest.Count > 0 ? byDigest[0].Id : null;
        }
        return Images.FindByName(reference.ToString());
    }

    public void Dispose() => Db.Dispose();
}
