using Strata.Oci;

namespace Strata.Storage;

/// <summary>The layers table: one unpacked layer per ChainID.</summary>
internal sealed class LayerRecords(MetadataDb db)
{
    private const string Columns = "chain_id, parent, diff_id, dir, link, size";

    public LayerInfo? Get(Digest chainId) => Query("WHERE chain_id = $c", chainId.ToString()).FirstOrDefault();

    public IReadOnlyList<LayerInfo> List() => Query("", null);

    /// <summary>Records a layer unless its ChainID is known already (another process unpacked it first): false then.</summary>
    public bool TryAdd(LayerInfo layer) => db.Execute($"""
        INSERT INTO layers({Columns}) VALUES ($c, $p, $d, $dir, $l, $s)
        ON CONFLICT(chain_id) DO NOTHING
        """, null, ("$c", layer.ChainId.ToString()), ("$p", layer.Parent?.ToString()), ("$d", layer.DiffId.ToString()),
        ("$dir", layer.Dir), ("$l", layer.Link), ("$s", layer.Size)) > 0;

    public void Delete(Digest chainId) => db.Execute("DELETE FROM layers WHERE chain_id = $c", null, ("$c", chainId.ToString()));

    private List<LayerInfo> Query(string where, string? p)
    {
        using var cmd = db.Command($"SELECT {Columns} FROM layers {where}", null, ("$c", p));
        using var r = cmd.ExecuteReader();
        var list = new List<LayerInfo>();
        while (r.Read())
            list.Add(new LayerInfo(Digest.Parse(r.GetString(0)), r.IsDBNull(1) ? null : Digest.Parse(r.GetString(1)),
                Digest.Parse(r.GetString(2)), r.GetString(3), r.GetString(4), r.GetInt64(5)));
        return list;
    }
}
