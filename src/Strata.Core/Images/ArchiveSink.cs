using Strata.Archive.Tar;

namespace Strata.Images;

/// <summary>Where a saved image goes: files in a directory, or members of a tar archive.</summary>
internal interface IArchiveSink : IDisposable
{
    void AddDirectory(string name);
    void AddFile(string name, ReadOnlySpan<byte> content);
    void AddFile(string name, long size, Stream content);
    bool Has(string name);
}

internal sealed class DirectorySink(string root) : IArchiveSink
{
    public void AddDirectory(string name) => Directory.CreateDirectory(Path.Combine(root, name));

    public void AddFile(string name, ReadOnlySpan<byte> content) => AddFile(name, content.Length, new MemoryStream(content.ToArray(), writable: false));

    /// <summary>Written beside its name and renamed once whole: a copy that fails (a blob that proves damaged at its end) leaves nothing under the name.</summary>
    public void AddFile(string name, long size, Stream content)
    {
        var path = Path.Combine(root, name);
        var temp = path + ".tmp";
        try
        {
            using (var f = Native.UnlockedFile.Create(temp)) content.CopyTo(f, 1 << 20);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public bool Has(string name) => File.Exists(Path.Combine(root, name));

    public void Dispose() { }
}

/// <summary>Deterministic tar members: fixed owner, mode and mtime, so the same images give the same bytes.</summary>
internal sealed class TarSink(Stream output) : IArchiveSink
{
    private readonly TarWriter _writer = new(output, leaveOpen: true);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public void AddDirectory(string name)
    {
        if (_names.Add(name)) _writer.Write(new TarEntry { Name = name, Type = TarEntryType.Directory, Mode = 0x1ed });
    }

    public void AddFile(string name, ReadOnlySpan<byte> content)
    {
        using var ms = new MemoryStream(content.ToArray(), writable: false);
        AddFile(name, content.Length, ms);
    }

    public void AddFile(string name, long size, Stream content)
    {
        if (!_names.Add(name)) return;
        _writer.Write(new TarEntry { Name = name, Type = TarEntryType.Regular, Mode = 0x1a4, Size = size }, content);
    }

    public bool Has(string name) => _names.Contains(name);

    public void Dispose() => _writer.Dispose();
}
