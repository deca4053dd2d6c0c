using System.Globalization;
using Strata.Oci;

namespace Strata.Storage;

/// <summary>A container as the store records it (its directory is the container store's business).</summary>
internal sealed record ContainerRecord(string Id, string Name, Digest ImageId, DateTimeOffset Created);

/// <summary>What became of recording a container.</summary>
internal enum ContainerAdd
{
    Added,
    NameTaken,
    ImageGone,
}

/// <summary>The containers table.</summary>
internal sealed class ContainerRecords(MetadataDb db)
{
    /// <summary>
    /// Records a container if its image is still there, in one statement (an rmi racing it either sees the
    /// container or has removed the image first).
    /// </summary>
    public ContainerAdd TryAdd(ContainerRecord c)
    {
        try
        {
            return db.Execute("""
                INSERT INTO containers(id, name, image_id, created) SELECT $id, $n, $img, $c
                WHERE EXISTS (SELECT 1 FROM images WHERE id = $img)
                """, null,
                ("$id", c.Id), ("$n", c.Name), ("$img", c.ImageId.ToString()), ("$c", c.Created.ToString("O", CultureInfo.InvariantCulture))) > 0
                ? ContainerAdd.Added : ContainerAdd.ImageGone;
        }
        catch (Microsoft.Data.Sqlite.SqliteException e) when (e.SqliteErrorCode == 19)
        {
            return ContainerAdd.NameTaken;
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
