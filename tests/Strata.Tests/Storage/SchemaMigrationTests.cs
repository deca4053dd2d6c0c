using Microsoft.Data.Sqlite;
using Strata.Tests.Cli;
using Strata.Tests.Infrastructure;

namespace Strata.Tests.Storage;

/// <summary>
/// A store written before layers and containers became snapshots (schema 4) opens in the new version with nothing
/// lost: its containers mount, diff, export and go; its layers are shared and freed as before.
/// </summary>
public class SchemaMigrationTests
{
    [Theory]
    [InlineData("overlay")]
    [InlineData("vfs")]
    public void AVersion4StoreKeepsItsContainersAndLayers(string driver)
    {
        if (driver == "overlay") { Requires.Root(); Requires.Overlay(); }
        using var tmp = new TempDir("migrate");
        var root = tmp.CreateDirectory("root");
        var id = StrataCli.Run(root, "--driver", driver, "load", "-q", "-i", SampleImages.Get("busybox").LayoutDir).Ok().Stdout.Trim();
        var container = StrataCli.Run(root, "create", "--name", "old", id).Ok().Stdout.Trim();
        var merged = StrataCli.Run(root, "mount", "old").Ok().Stdout.Trim();
        File.WriteAllText(Path.Combine(merged, "written"), "before the upgrade");
        File.Delete(Path.Combine(merged, "bin", "sh"));
        StrataCli.Run(root, "umount", "old").Ok();
        MakeVersion4(root, container, driver);

        var diff = StrataCli.Run(root, "diff", "old").Ok().Stdout.Split('\n');
        Assert.Contains("A /written", diff);
        Assert.Contains("D /bin/sh", diff);
        merged = StrataCli.Run(root, "mount", "old").Ok().Stdout.Trim();
        Assert.Equal("before the upgrade", File.ReadAllText(Path.Combine(merged, "written")));
        Assert.True(File.Exists(Path.Combine(merged, "bin", "busybox")));
        StrataCli.Run(root, "umount", "old").Ok();
        StrataCli.Run(root, "create", "--name", "new", id).Ok(); // on the migrated layer
        StrataCli.Run(root, "rm", "old").Ok();
        StrataCli.Run(root, "rm", "new").Ok();
        StrataCli.Run(root, "rmi", id).Ok();
        Assert.False(Directory.Exists(Path.Combine(root, "containers", container)));
        Assert.All(Directory.GetDirectories(Path.Combine(root, "overlay")).Select(Path.GetFileName), n => Assert.True(n is "l" or "empty", n));
    }

    /// <summary>
    /// Rewrites a store as schema 4 kept it: no record of what images reference, no leases, a layers table, layers in overlay/DIR (vfs too), a container's
    /// writable layer in containers/ID (diff and work; vfs: its whole tree in merged).
    /// </summary>
    private static void MakeVersion4(string root, string container, string driver)
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(root, "strata.db")};Pooling=False");
        db.Open();
        string? containerDir = null;
        using (var cmd = db.CreateCommand())
        {
            cmd.CommandText = "SELECT dir FROM snapshots WHERE key = $k";
            cmd.Parameters.AddWithValue("$k", container);
            containerDir = Path.Combine(root, (string)cmd.ExecuteScalar()!);
        }
        var own = Directory.CreateDirectory(Path.Combine(root, "containers", container)).FullName;
        if (driver == "vfs")
        {
            Directory.Move(Path.Combine(containerDir, "diff"), Path.Combine(own, "merged"));
            Directory.Delete(containerDir, recursive: true);
            Directory.Move(Path.Combine(root, "vfs"), Path.Combine(root, "overlay"));
        }
        else
        {
            Directory.Delete(Path.Combine(own, "merged"));
            Directory.Move(Path.Combine(containerDir, "diff"), Path.Combine(own, "diff"));
            Directory.Move(Path.Combine(containerDir, "work"), Path.Combine(own, "work"));
            Directory.Delete(containerDir, recursive: true);
        }
        using var tx = db.BeginTransaction();
        using (var cmd = db.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = """
                CREATE TABLE layers (chain_id TEXT PRIMARY KEY, parent TEXT, diff_id TEXT NOT NULL, dir TEXT NOT NULL UNIQUE,
                    link TEXT NOT NULL UNIQUE, size INTEGER NOT NULL);
                INSERT INTO layers SELECT key, parent, key, substr(dir, instr(dir, '/') + 1), coalesce(link, key), 0 FROM snapshots WHERE state = 2;
                DROP TABLE snapshots;
                DROP TABLE image_refs;
                DROP TABLE lease_refs;
                DROP TABLE leases;
                PRAGMA user_version = 4;
                """;
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }
}
