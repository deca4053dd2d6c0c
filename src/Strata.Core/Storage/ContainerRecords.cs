using System.Globalization;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>A container as the store records it (its directory is the container store's business).</summary>
internal sealed record ContainerRecord(string Id, string Name, Digest ImageId, DateTimeOffset Created);

/// <summary>The containers table.</summary>
internal sealed class ContainerRecords(MetadataDb db)
{
    /// <summary>Records a container; false when its name is taken.</summary>
    public bool TryAdd(ContainerRecord c)
    {
        try
        {
            db.Execute("INSERT INTO containers(id, name, image_id, created) VALUES ($id, $n, $img, $c)", null,
                ("$id", c.Id), ("$n", c.Name), ("$img", c.ImageId.ToString()), ("$c", c.Created.ToString("O", CultureInfo.InvariantCulture)));
            return true;
        }
        catch (Microsoft.Data.Sqlite.SqliteException e) when (e.SqliteErrorCode == 19)
        {
            return false;
        }
    }

    /// <summary>Newest first.</summary>
    public IReadOnlyList<ContainerRecord> List() => Query("", null);

    public IReadOnlyList<ContainerRecord> ByName(string name) => Query("WHERE name = $p", name);

    public IReadOnlyList<ContainerRecord> ByIdPrefix(string hexPrefix) => Query("WHERE id >= $p AND id < $p || 'g'", hexPrefix);

    public IReadOnlyList<ContainerRecord> ByImage(Digest image) => Query("WHERE image_id = $p", image.ToString());

    public void Delete(string id) => db.Execute("DELETE FROM containers WHERE id = $id", null, ("$id", id));

    private List<ContainerRecord> Query(string where, string? p)
    {
        using var cmd = db.Command($"SELECT id, name, image_id, created FROM containers {where} ORDER BY created DESC", null, ("$p", p));
        using var r = cmd.ExecuteReader();
        var list = new List<ContainerRecord>();
        while (r.Read())
            list.Add(new ContainerRecord(r.GetString(0), r.GetString(1), Digest.Parse(r.GetString(2)), DateTimeOffset.Parse(r.GetString(3), CultureInfo.InvariantCulture)));
        return list;
    }
}
