using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Strata.Errors;

namespace Strata.Oci;

/// <summary>
/// A validated content digest, "algorithm:encoded". Parsed once at the boundary: a digest that
/// reaches a path or URL has passed the grammar and the per-algorithm length check (CVE-2024-3727).
/// </summary>
[JsonConverter(typeof(DigestJsonConverter))]
public readonly struct Digest : IEquatable<Digest>
{
    /// <summary>The algorithm OCI content is addressed by.</summary>
    public const string Sha256Algorithm = "sha256";
    /// <summary>The other algorithm Strata verifies.</summary>
    public const string Sha512Algorithm = "sha512";

    private Digest(string algorithm, string encoded)
    {
        Algorithm = algorithm;
        Encoded = encoded;
    }

    /// <summary>The algorithm: sha256, sha512, ...</summary>
    public string Algorithm { get; }

    /// <summary>The hash in lower-case hex.</summary>
    public string Encoded { get; }

    /// <summary>True for <c>default(Digest)</c>, which names nothing.</summary>
    public bool IsDefault => Algorithm is null;

    /// <summary>True for algorithms Strata can compute and therefore verify.</summary>
    public bool IsVerifiable => Algorithm is Sha256Algorithm or Sha512Algorithm;

    /// <summary>Parses "algorithm:encoded", or throws <see cref="ErrorKind.InvalidContent"/>.</summary>
    public static Digest Parse(string value) =>
        TryParse(value, out var d, out var why) ? d : throw StrataException.Invalid($"invalid digest \"{Truncate(value)}\": {why}");

    /// <summary>Parses "algorithm:encoded"; false for anything else.</summary>
    public static bool TryParse(string? value, out Digest digest) => TryParse(value, out digest, out _);

    /// <summary>Parses "algorithm:encoded"; false for anything else, with the reason.</summary>
    public static bool TryParse(string? value, out Digest digest, out string why)
    {
        digest = default;
        if (string.IsNullOrEmpty(value)) { why = "empty"; return false; }
        int colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1) { why = "expected algorithm:encoded"; return false; }
        var alg = value[..colon];
        var enc = value[(colon + 1)..];
        if (!IsValidAlgorithm(alg)) { why = "bad algorithm"; return false; }
        foreach (char c in enc)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '=' or '_' or '-')) { why = "bad character in encoded part"; return false; }
        }
        int expectedHex = alg switch { Sha256Algorithm => 64, Sha512Algorithm => 128, _ => -1 };
        if (expectedHex > 0)
        {
            if (enc.Length != expectedHex) { why = $"{alg} needs {expectedHex} hex characters"; return false; }
            foreach (char c in enc)
            {
                if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) { why = "encoded part must be lowercase hex"; return false; }
            }
        }
        digest = new Digest(alg, enc);
        why = "";
        return true;
    }

    // algorithm ::= [a-z0-9]+ ([+._-][a-z0-9]+)*
    private static bool IsValidAlgorithm(string alg)
    {
        bool needComponent = true;
        foreach (char c in alg)
        {
            if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)) { needComponent = false; continue; }
            if (c is '+' or '.' or '_' or '-' && !needComponent) { needComponent = true; continue; }
            return false;
        }
        return !needComponent;
    }

    internal static Digest FromSha256Hash(ReadOnlySpan<byte> hash) => new(Sha256Algorithm, Convert.ToHexStringLower(hash));

    internal static Digest FromHash(string algorithm, ReadOnlySpan<byte> hash) => new(algorithm, Convert.ToHexStringLower(hash));

    /// <summary>The SHA-256 digest of the bytes.</summary>
    public static Digest Sha256(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(data, hash);
        return FromSha256Hash(hash);
    }

    /// <summary>Digest of data with this digest's algorithm.</summary>
    internal Digest Compute(ReadOnlySpan<byte> data) => Algorithm switch
    {
        Sha256Algorithm => Sha256(data),
        Sha512Algorithm => FromHash(Sha512Algorithm, SHA512.HashData(data)),
        _ => throw StrataException.Unsupported($"unsupported digest algorithm {Algorithm}"),
    };

    internal IncrementalHash CreateHash() => Algorithm switch
    {
        Sha256Algorithm => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        Sha512Algorithm => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw StrataException.Unsupported($"unsupported digest algorithm {Algorithm}"),
    };

    /// <summary>The 12-character short form docker prints for IDs.</summary>
    public string Short => Encoded.Length > 12 ? Encoded[..12] : Encoded;

    /// <summary>"algorithm:encoded" (empty for the default digest).</summary>
    public override string ToString() => IsDefault ? "" : $"{Algorithm}:{Encoded}";
    /// <inheritdoc/>
    public bool Equals(Digest other) => Algorithm == other.Algorithm && Encoded == other.Encoded;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Digest d && Equals(d);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Algorithm, Encoded);
    /// <summary>Same algorithm and hash.</summary>
    public static bool operator ==(Digest a, Digest b) => a.Equals(b);
    /// <summary>Another algorithm or hash.</summary>
    public static bool operator !=(Digest a, Digest b) => !a.Equals(b);

    private static string Truncate(string s) => s.Length > 80 ? s[..80] + "..." : s;
}

internal sealed class DigestJsonConverter : JsonConverter<Digest>
{
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var s = reader.GetString();
        if (!Digest.TryParse(s, out var d, out var why))
            throw new JsonException($"invalid digest \"{s}\": {why}");
        return d;
    }

    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
