using Strata.Errors;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>One store root: content-addressed blobs plus the metadata that names them.</summary>
public sealed class StrataStore : IDisposable
{
    private StrataStore(string root)
    {
        Root = root;
        Directory.CreateDirectory(root);
        Content = new ContentStore(root);
        Db = new MetadataDb(Path.Combine(root, "strata.db"));
        Images = new ImageStore(Db);
        // A crashed writer leaves at most an ingest file; nothing visible refers to it.
        Content.CleanIngest(TimeSpan.FromHours(1));
    }

    public string Root { get; }
    public ContentStore Content { get; }
    public MetadataDb Db { get; }
    public ImageStore Images { get; }

    public static StrataStore Open(string? root = null) => new(root ?? DefaultRoot());

    /// <summary>As podman: /var/lib/strata for root, else under the user's XDG data directory.</summary>
    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("STRATA_ROOT") is { Length: > 0 } env) return env;
        if (Environment.UserName == "root") return "/var/lib/strata";
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrEmpty(data))
            data = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "strata");
    }

    /// <summary>Finds an image by name, full or short ID, or manifest digest.</summary>
    public LocalImage Resolve(string nameOrId)
    {
        var id = ResolveId(nameOrId) ?? throw StrataException.NotFound($"image not known: {nameOrId}");
        return LocalImage.Load(this, Images.Get(id) ?? throw StrataException.NotFound($"image not known: {nameOrId}"));
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
