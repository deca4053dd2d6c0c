using Strata.Archive.Tar;

namespace Strata.Tests.Archive;

internal static class TarTestData
{
    public static List<(TarEntry Entry, byte[]? Data)> ReadAll(Stream stream)
    {
        using var reader = new TarReader(stream, leaveOpen: true);
        var list = new List<(TarEntry, byte[]?)>();
        while (reader.Next() is { } e)
        {
            byte[]? data = null;
            if (e.Data != null)
            {
                var ms = new MemoryStream();
                e.Data.CopyTo(ms);
                data = ms.ToArray();
            }
            list.Add((e, data));
        }
        return list;
    }

    public static List<(TarEntry Entry, byte[]? Data)> ReadFile(string path)
    {
        using var f = File.OpenRead(path);
        return ReadAll(f);
    }

    public static TarEntry Find(this List<(TarEntry Entry, byte[]? Data)> list, string name) =>
        list.Single(x => x.Entry.Name == name).Entry;

    public static byte[] DataOf(this List<(TarEntry Entry, byte[]? Data)> list, string name) =>
        list.Single(x => x.Entry.Name == name).Data!;
}
