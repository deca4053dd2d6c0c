using System.Collections.Concurrent;
using System.Net;

namespace Strata.Tests.Infrastructure.Registry;

/// <summary>What a <see cref="FaultProxy"/> rule does to the requests it matches.</summary>
public abstract record Fault
{
    /// <summary>Headers and this many body bytes, then the connection is cut.</summary>
    public sealed record DropAfter(long Bytes) : Fault;

    /// <summary>An answer with this status (and a distribution-style error body), upstream never asked.</summary>
    public sealed record Status(int Code, string? RetryAfter = null) : Fault;

    /// <summary>The body with the byte at this offset inverted.</summary>
    public sealed record FlipByte(long Offset) : Fault;

    /// <summary>The body at this many bytes a second.</summary>
    public sealed record Slow(int BytesPerSecond) : Fault;
}

/// <summary>
/// A reverse proxy in front of a registry that the tests own: it forwards everything (auth headers, ranges,
/// uploads), counts blob bytes and requests, and injects faults by rule: each rule matches method and path and
/// fires a number of times.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private sealed class Rule(Func<string, string, bool> match, Fault fault, int times)
    {
        public Func<string, string, bool> Match { get; } = match;
        public Fault Fault { get; } = fault;
        public int Remaining = times;
    }

    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
    private readonly string _upstreamHost;
    private readonly List<Rule> _rules = [];
    private readonly Task _loop;
    private long _blobBytes;

    public FaultProxy(string upstreamHost)
    {
        _upstreamHost = upstreamHost;
        int port = RegistryServer.FreePort();
        Host = $"127.0.0.1:{port}";
        _listener.Prefixes.Add($"http://{Host}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Host { get; }

    /// <summary>Body bytes of blob GETs actually sent to clients.</summary>
    public long BlobBytesServed => Interlocked.Read(ref _blobBytes);

    /// <summary>"METHOD /path?query [Range: r] -> status" for every request, in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static bool IsBlobGet(string method, string path) => method == "GET" && path.Contains("/blobs/sha256:", StringComparison.Ordinal);

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

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        var req = ctx.Request;
        var path = req.RawUrl ?? "/";
        var line = $"{req.HttpMethod} {path}" + (req.Headers["Range"] is { } range ? $" [Range: {range}]" : "");
        try
        {
            var fault = Take(req.HttpMethod, path);
            if (fault is Fault.Status s)
            {
                Requests.Enqueue($"{line} -> {s.Code} (injected)");
                ctx.Response.StatusCode = s.Code;
                if (s.RetryAfter is not null) ctx.Response.AddHeader("Retry-After", s.RetryAfter);
                ctx.Response.ContentType = "application/json";
                var body = """{"errors":[{"code":"UNAVAILABLE","message":"injected by the test proxy"}]}"""u8.ToArray();
                ctx.Response.ContentLength64 = body.Length;
                await ctx.Response.OutputStream.WriteAsync(body);
                ctx.Response.Close();
                return;
            }
            using var upstream = await ForwardAsync(req, path);
            Requests.Enqueue($"{line} -> {(int)upstream.StatusCode}");
            var res = ctx.Response;
            res.StatusCode = (int)upstream.StatusCode;
            foreach (var h in upstream.Headers.Concat(upstream.Content.Headers))
            {
                if (h.Key is "Transfer-Encoding" or "Connection" or "Content-Length" or "Keep-Alive") continue;
                foreach (var v in h.Value)
                    res.AddHeader(h.Key, h.Key == "Location" ? v.Replace(_upstreamHost, Host, StringComparison.Ordinal) : v);
            }
            if (upstream.Content.Headers.ContentLength is { } length) res.ContentLength64 = length;
            else if (req.HttpMethod != "HEAD") res.SendChunked = true;
            if (req.HttpMethod == "HEAD") { res.Close(); return; }

            bool countBytes = IsBlobGet(req.HttpMethod, path);
            await using var body2 = await upstream.Content.ReadAsStreamAsync();
            var buffer = new byte[fault is Fault.Slow slow ? Math.Max(1, slow.BytesPerSecond / 10) : 1 << 16];
            long sent = 0;
            int n;
            while ((n = await body2.ReadAsync(buffer)) > 0)
            {
                if (fault is Fault.DropAfter drop && sent + n > drop.Bytes) n = (int)(drop.Bytes - sent);
                if (fault is Fault.FlipByte flip && flip.Offset >= sent && flip.Offset < sent + n) buffer[flip.Offset - sent] ^= 0xff;
                if (n > 0) await res.OutputStream.WriteAsync(buffer.AsMemory(0, n));
                sent += n;
                if (countBytes) Interlocked.Add(ref _blobBytes, n);
                if (fault is Fault.DropAfter d && sent >= d.Bytes)
                {
                    await res.OutputStream.FlushAsync();
                    res.Abort();
                    return;
                }
                if (fault is Fault.Slow) await Task.Delay(100);
            }
            res.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or HttpRequestException or ObjectDisposedException or InvalidOperationException)
        {
            try { ctx.Response.Abort(); } catch (ObjectDisposedException) { }
        }
    }

    private Task<HttpResponseMessage> ForwardAsync(HttpListenerRequest req, string path)
    {
        var message = new HttpRequestMessage(new HttpMethod(req.HttpMethod), new Uri($"http://{_upstreamHost}{path}"));
        if (req.HasEntityBody || req.ContentLength64 == 0 && req.HttpMethod is "PUT" or "PATCH" or "POST")
        {
            message.Content = req.HasEntityBody ? new StreamContent(req.InputStream) : new ByteArrayContent([]);
            if (req.ContentLength64 >= 0) message.Content.Headers.ContentLength = req.ContentLength64;
        }
        foreach (string key in req.Headers.AllKeys.OfType<string>())
        {
            if (key is "Host" or "Connection" or "Content-Length" or "Transfer-Encoding" or "Expect") continue;
            var value = req.Headers[key]!;
            if (!message.Headers.TryAddWithoutValidation(key, value)) message.Content?.Headers.TryAddWithoutValidation(key, value);
        }
        return _upstream.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
    }

    public async ValueTask DisposeAsync()
    {
        // The managed listener's Close looks its port up again after Stop and can trip over a port another test
        // took meanwhile: stopping is what matters here.
        try { _listener.Close(); }
        catch (HttpListenerException) { }
        await _loop;
        _upstream.Dispose();
    }
}
