using Strata.Oci;
using Strata.Storage;

namespace Strata.Images;

/// <summary>One row of `history`: a config history entry paired with its layer (empty_layer entries have none).</summary>
public sealed record HistoryRow(Digest? Id, DateTimeOffset? Created, string CreatedBy, long Size, string Comment, bool Empty);

internal static class HistoryRows
{
    /// <summary>Newest first, as docker prints it; the top row carries the image ID, older ones "missing".</summary>
    public static IReadOnlyList<HistoryRow> For(StrataStore store, LocalImage image)
    {
        var layers = image.Manifest.Layers;
        var rows = new List<HistoryRow>();
        int layer = 0;
        var history = image.Config.History ?? [];
        foreach (var h in history)
        {
            bool empty = h.EmptyLayer == true || layer >= layers.Count;
            long size = 0;
            if (!empty)
            {
                size = store.Images.LayerSize(layers[layer]);
                layer++;
            }
            rows.Add(new HistoryRow(null, h.Created, h.CreatedBy ?? "", size, h.Comment ?? "", empty));
        }
        // Layers the history does not describe (some builders write none).
        for (; layer < layers.Count; layer++)
            rows.Add(new HistoryRow(null, null, "", store.Images.LayerSize(layers[layer]), "", false));
        rows.Reverse();
        if (rows.Count > 0) rows[0] = rows[0] with { Id = image.Id };
        return rows;
    }
}
