using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Strata.Oci;
using Strata.Storage;

// Strata.Bench: in-process measurements that have no command of their own.
//   digest FILE [--report OPENSSL_MBPS]   SHA-256 through VerifyingStream (the verify-on-read path)
if (args is ["digest", var file, ..])
{
    var buffer = new byte[1 << 20];
    Digest expected;
    using (var f = Open(file))
        expected = Digest.FromSha256Hash(SHA256.HashData(f));

    // Timed: one pass through the verifying reader, as every layer read from the store takes it.
    var sw = Stopwatch.StartNew();
    using (var f = Open(file))
    using (var verifying = new VerifyingStream(f, expected, f.Length, file))
        while (verifying.Read(buffer) > 0) { }
    var mbps = new FileInfo(file).Length / sw.Elapsed.TotalSeconds / 1e6;
    Console.WriteLine($"strata VerifyingStream sha256: {mbps:F0} MB/s ({expected.Short})");
    if (args is [_, _, "--report", var openssl])
    {
        var o = double.Parse(openssl, CultureInfo.InvariantCulture);
        Console.WriteLine($"strata time / openssl speed time: {o / mbps:F2}x (target <= 1.2)");
    }
    return 0;
}
Console.Error.WriteLine("usage: Strata.Bench digest FILE [--report OPENSSL_MBPS]");
return 2;

static FileStream Open(string file) =>
    new(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
