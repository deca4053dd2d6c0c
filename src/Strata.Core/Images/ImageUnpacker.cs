using Strata.Archive;
using Strata.Archive.Compression;
using Strata.Archive.Tar;
using Strata.Errors;
using Strata.Oci;
using Strata.Storage;

namespace Strata.Images;

/// <summary>
/// Unpacks an image's layers into a rootfs directory. Work happens in a hidden sibling directory that is
/// renamed into place at the end, so a failure leaves the target as it was.
/// </summary>
internal sealed class ImageUnpacker(StrataStore store)
{
    public void Unpack(LocalImage image, string target, CancellationToken cancellationToken = default)
    {
        target = Path.GetFullPath(target);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new StrataException(ErrorKind.AlreadyExists, $"{target} exists and is not empty");
        if (File.Exists(target)) throw new StrataException(ErrorKind.AlreadyExists, $"{target} exists and is not a directory");
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.strata-unpack-{Environment.ProcessId}");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            ApplyLayers(image, staging, cancellationToken);
            if (Directory.Exists(target)) Directory.Delete(target);
            Directory.Move(staging, target);
        }
        catch
        {
            TryRemove(staging);
            throw;
        }
    }

    /// <summary>Applies every layer in order onto a directory, verifying blob digests and DiffIDs as it streams.</summary>
    public void ApplyLayers(LocalImage image, string root, CancellationToken cancellationToken = default)
    {
        var layers = image.Manifest.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ApplyLayer(layers[i], image.Config.RootFs.DiffIds[i], root);
        }
    }

    public void ApplyLayer(Descriptor layer, Digest expectedDiffId, string root, ApplyOptions? options = null)
    {
        using var blob = store.Content.OpenRead(layer.Digest);
        using var verified = new VerifyingStream(blob, layer.Digest, layer.Size, $"layer {layer.Digest}");
        using var plain = LayerStreams.OpenDecompressed(verified, out _);
        using var hashing = new HashingStream(plain);
        using var reader = new TarReader(hashing);
        try
        {
            LayerApplier.Apply(root, reader.Entries(), options);
            reader.DrainToEnd();
        }
        catch (StrataException e) when (e.Kind != ErrorKind.DigestMismatch)
        {
            throw new StrataException(e.Kind, $"layer {layer.Digest.Short}: {e.Message}", e);
        }
        verified.DrainAndVerify();
        var diffId = hashing.GetDigest();
        if (diffId != expectedDiffId) throw new DigestMismatchException(expectedDiffId, diffId, $"layer {layer.Digest} DiffID");
        // Every byte was just hashed: later checks of this blob's DiffID need not decompress it again.
        if (store.Images.GetLayerInfo(layer.Digest) is null) store.Images.PutLayerInfo(layer.Digest, diffId, hashing.BytesCount);
    }

    private static void TryRemove(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
