using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Strata.Tests.Infrastructure.Registry;

/// <summary>What a <see cref="FaultProxy"/> rule does to the requests it matches. Offsets count body bytes of the response.</summary>
public abstract record Fault
{
    /// <summary>Headers and this many body bytes, then the connection is closed without warning.</summary>
    public sealed record DropAfter(long Bytes) : Fault;

    /// <summary>An answer with this status (and a distribution-style error body), upstream never asked.</summary>
    public sealed record Status(int Code, string? RetryAfter = null) : Fault;

    /// <summary>The body with the byte at this offset inverted.</summary>
    public sealed record FlipByte(long Offset) : Fault;

    /// <summary>The body at this many bytes a second.</summary>
    public sealed record Slow(int BytesPerSecond) : Fault;

    /// <summary>The full Content-Length announced, this many body bytes sent, then a clean close (Connection: close).</summary>
    public sealed record Truncate(long Bytes) : Fault;
}

/// <summary>One request the proxy answered; <see cref="ToString"/> is "METHOD /path?query [Range: r] -> status (fault)".</summary>
public sealed record ProxiedRequest(string Method, string Path, string? Range, int Status, Fault? Fault)
{
    public override string ToString() =>
        $"{Method} {Path}" + (Range is null ? "" : $" [Range: {Range}]") + $" -> {Status}"
        + Fault switch { null => "", Fault.Status => " (injected)", _ => $" ({Fault})" };
}

/// <summary>
/// A reverse proxy in front of a registry that the tests own: it forwards everything (auth headers, ranges,
/// uploads; upstream's absolute Locations rewritten to the proxy), counts blob bytes and requests, and injects
/// faults by rule: each rule matches method and path+query and fires a number of times.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private sealed class Rule(Func<string, string, bool> match, Fault fault, int times)
    {
        public Func<string, string, bool> Match { get; } = match;
        public Fault Fault { get; } = fault;
        public int Remaining = times;
    }

    // Connection-level headers belong to each hop; Kestrel and HttpClient frame the bodies themselves.
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Host", "Content-Length", "Expect",
    };

    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, UseCookies = false })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
    private readonly string _upstreamHost;
    private readonly List<Rule> _rules = [];
    private readonly ConcurrentQueue<ProxiedRequest> _log = new();
    private readonly LoopbackHttpServer _server;
    private long _blobBytes;

    public FaultProxy(string upstreamHost)
    {
        _upstreamHost = upstreamHost;
        _server = LoopbackHttpServer.Start(HandleAsync, kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null; // layers
            kestrel.Limits.MinResponseDataRate = null; // a Slow fault is slow on purpose
            kestrel.Limits.MinRequestBodyDataRate = null;
        });
    }

    /// <summary>"127.0.0.1:PORT".</summary>
    public string Host => _server.Host;

    /// <summary>Body bytes of blob GETs actually sent to clients.</summary>
    public long BlobBytesServed => Interlocked.Read(ref _blobBytes);

    /// <summary>Every request answered, in the order their status was known.</summary>
    public IReadOnlyList<ProxiedRequest> Log => [.. _log];

    /// <summary>The <see cref="Log"/> as lines: "METHOD /path?query [Range: r] -> status", "(injected)" for a Status fault.</summary>
    public IEnumerable<string> Requests => _log.Select(r => r.ToString());

    /// <summary>How many logged requests match, e.g. <c>Count(FaultProxy.BlobGet(digest))</c>.</summary>
    public int Count(Func<string, string, bool> match) => _log.Count(r => match(r.Method, r.Path));

    /// <summary>Any GET of a blob (not of an upload session).</summary>
    public static bool IsBlobGet(string method, string path) => method == "GET" && path.Contains("/blobs/sha256:", StringComparison.Ordinal);

    /// <summary>A GET of the blob with this digest, in any repository.</summary>
    public static Func<string, string, bool> BlobGet(string digest) =>
        (method, path) => method == "GET" && path.Split('?')[0].EndsWith("/blobs/" + digest, StringComparison.Ordinal);

    /// <summary>Applies <paramref name="fault"/> to the next <paramref name="times"/> requests matching (method, path+query); blob GETs by default.</summary>
    public void Add(Fault fault, Func<string, string, bool>? match = null, int times = 1)
    {
        lock (_rules) _rules.Add(new Rule(match ?? IsBlobGet, fault, times));
    }

    public void Clear()
    {
        lock (_rules) _rules.Clear();
    }

    private Fault? Take(string method, string path)
    {
        lock (_rules)
        {
            foreach (var r in _rules)
                if (r.Remaining > 0 && r.Match(method, path)) { r.Remaining--; return r.Fault; }
        }
        return null;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        var res = ctx.Response;
        var ct = ctx.RequestAborted;
        var path = ctx.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var range = req.Headers.Range.Count > 0 ? req.Headers.Range.ToString() : null;
        var fault = Take(req.Method, path);
        try
        {
            if (fault is Fault.Status s)
            {
                _log.Enqueue(new ProxiedRequest(req.Method, path, range, s.Code, fault));
                await AnswerStatusAsync(res, s, HttpMethods.IsHead(req.Method), ct);
                return;
            }
            using var upstream = await ForwardAsync(req, path, ct);
            _log.Enqueue(new ProxiedRequest(req.Method, path, range, (int)upstream.StatusCode, fault));
            res.StatusCode = (int)upstream.StatusCode;
            foreach (var h in upstream.Headers.Concat(upstream.Content.Headers))
            {
                if (HopByHop.Contains(h.Key)) continue;
                foreach (var v in h.Value)
                    res.Headers.Append(h.Key, h.Key == "Location" ? v.Replace(_upstreamHost, Host, StringComparison.Ordinal) : v);
            }
            res.ContentLength = upstream.Content.Headers.ContentLength;
            // Kestrel closes the connection itself after a body that ends short, once a byte of it went out.
            if (fault is Fault.Truncate or Fault.DropAfter { Bytes: 0 }) res.Headers.Connection = "close";
            if (HttpMethods.IsHead(req.Method)) return;

            bool countBytes = IsBlobGet(req.Method, path);
            long? limit = fault switch { Fault.DropAfter d => d.Bytes, Fault.Truncate t => t.Bytes, _ => null };
            await using var body = await upstream.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[fault is Fault.Slow slow ? Math.Max(1, slow.BytesPerSecond / 10) : 1 << 16];
            long sent = 0;
            int n;
            while ((sent < limit || limit is null) && (n = await body.ReadAsync(buffer, ct)) > 0)
            {
                if (sent + n > limit) n = (int)(limit.Value - sent);
                if (fault is Fault.FlipByte flip && flip.Offset >= sent && flip.Offset < sent + n) buffer[flip.Offset - sent] ^= 0xff;
                await res.Body.WriteAsync(buffer.AsMemory(0, n), ct);
                sent += n;
                if (countBytes) Interlocked.Add(ref _blobBytes, n);
                if (fault is Fault.Slow) await Task.Delay(100, ct);
            }
            // DropAfter and Truncate end here short of Content-Length: Kestrel sends every byte written, then closes
            // the connection (ctx.Abort() would lose bytes still buffered inside Kestrel, and the headers with them).
            await res.StartAsync(ct);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
        {
            ctx.Abort(); // the client went away, or upstream did: end this connection, not the proxy
        }
    }

    private static async Task AnswerStatusAsync(HttpResponse res, Fault.Status s, bool head, CancellationToken ct)
    {
        res.StatusCode = s.Code;
        if (s.RetryAfter is not null) res.Headers.RetryAfter = s.RetryAfter;
        res.ContentType = "application/json";
        var code = s.Code switch { 401 => "UNAUTHORIZED", 403 => "DENIED", 429 => "TOOMANYREQUESTS", 503 => "UNAVAILABLE", _ => "UNKNOWN" };
        var body = Encoding.UTF8.GetBytes($$"""{"errors":[{"code":"{{code}}","message":"injected by the test proxy","detail":null}]}""");
        res.ContentLength = body.Length;
        if (!head) await res.Body.WriteAsync(body, ct);
    }

    private Task<HttpResponseMessage> ForwardAsync(HttpRequest req, string path, CancellationToken ct)
    {
        var message = new HttpRequestMessage(new HttpMethod(req.Method), new Uri($"http://{_upstreamHost}{path}"));
        if (req.ContentLength is not null || req.Headers.TransferEncoding.Count > 0)
            message.Content = new StreamContent(req.Body) { Headers = { ContentLength = req.ContentLength } };
        foreach (var (key, values) in req.Headers)
        {
            if (HopByHop.Contains(key)) continue;
            if (!message.Headers.TryAddWithoutValidation(key, (IEnumerable<string?>)values)) message.Content?.Headers.TryAddWithoutValidation(key, (IEnumerable<string?>)values);
        }
        return _upstream.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _upstream.Dispose();
    }
}
