using System.Text;

namespace Strata.Oci;

/// <summary>ChainID per the image spec: ChainID(L0) = DiffID(L0); ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)).</summary>
internal static class ChainId
{
    public static Digest Next(Digest? parent, Digest diffId) =>
        parent is { } p ? Digest.Sha256(Encoding.ASCII.GetBytes($"{p} {diffId}")) : diffId;

    public static IReadOnlyList<Digest> Compute(IEnumerable<Digest> diffIds)
    {
        var result = new List<Digest>();
        Digest? parent = null;
        foreach (var d in diffIds)
        {
            parent = Next(parent, d);
            result.Add(parent.Value);
        }
        return result;
    }
}
