using Strata.Oci;

namespace Strata.Registry;

/// <summary>What a pull or push tells its user, blob by blob (a terminal draws bars, a log gets lines).</summary>
public interface ITransferProgress
{
    /// <summary>A blob enters the transfer; <paramref name="kind"/> is "blob", "config" or "manifest".</summary>
    void Begin(Descriptor blob, string kind);

    /// <summary>Bytes of the blob moved so far (resumed bytes included).</summary>
    void Update(Digest blob, long done);

    /// <summary>A state change: "Retrying ...", "Extracting", "Already exists", "Pull complete"...</summary>
    void Status(Digest blob, string status, bool final = false);

    /// <summary>A line about the whole transfer.</summary>
    void Message(string line);
}

internal sealed class NoProgress : ITransferProgress
{
    public static readonly NoProgress Instance = new();
    public void Begin(Descriptor blob, string kind) { }
    public void Update(Digest blob, long done) { }
    public void Status(Digest blob, string status, bool final = false) { }
    public void Message(string line) { }
}
