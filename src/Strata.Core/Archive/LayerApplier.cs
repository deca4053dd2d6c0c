using Strata.Archive.Tar;

namespace Strata.Archive;

/// <summary>
/// Applies one OCI layer onto a directory holding the lower layers' flattened content (or nothing):
/// whiteouts and opaque markers hide lower content only, entries of this layer survive them, and every
/// file-system operation stays inside the root whatever the archive says (see <see cref="LayerApplication"/>).
/// </summary>
internal static class LayerApplier
{
    public static ApplyResult Apply(string rootDirectory, IEnumerable<TarEntry> entries, ApplyOptions? options = null)
    {
        using var application = new LayerApplication(rootDirectory, options ?? new ApplyOptions());
        foreach (var entry in entries) application.Apply(entry);
        application.Finish();
        return application.Result;
    }
}
