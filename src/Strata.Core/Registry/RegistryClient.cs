using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Strata.Errors;

namespace Strata.Registry;

/// <summary>
/// One registry host over the distribution API: finds its endpoint (https, or http where allowed), answers its
/// auth challenges (Basic, or Bearer tokens cached per scope), follows redirects without leaking credentials to
/// other hosts, and retries transient failures with backoff. Requests are built by a callback so a retry sends
/// a fresh one (bodies included).
/// </summary>
internal sealed class RegistryClient : IDisposable
{
    private static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http;
    private readonly RegistryOptions _options;
    private readonly Lazy<RegistryCredentials?> _lazyCredentials;
    private readonly ConcurrentDictionary<string, Lazy<Task<BearerToken>>> _tokens = new();
    private readonly SemaphoreSlim _pingLock = new(1, 1);
    private Uri? _base;
    private volatile AuthChallenge? _challenge;

    public RegistryClient(string registry, RegistryOptions options)
    {
        Registry = registry;
        _options = options;
        // The auth file is read when a registry first asks for credentials, not by the constructor.
        _lazyCredentials = new(() => options.Credentials ?? AuthFile.Find(registry, options.AuthFiles));
        _http = options.HttpHandler is { } given
            ? new HttpClient(given, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan }
            : new HttpClient(OwnHandler(options), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("strata", "0.1"));
    }

    private RegistryCredentials? Credentials => _lazyCredentials.Value;

    private static SocketsHttpHandler OwnHandler(RegistryOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            MaxConnectionsPerServer = 32,
        };
#pragma warning disable CA5359 // --tls-verify=false asks for exactly this, as podman's does.
        if (options.TlsVerify == false) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        return handler;
    }

    /// <summary>The registry as named in references (docker.io, localhost:5000, ...).</summary>
    public string Registry { get; }

    public RegistryOptions Options => _options;

    /// <summary>The host requests go to: docker.io is served by registry-1.docker.io.</summary>
    private string Host => Registry == "docker.io" ? "registry-1.docker.io" : Registry;

    private bool PlainHttpAllowed => _options.TlsVerify == false || IsLoopback(Registry);

    private static bool IsLoopback(string registry)
    {
        var host = registry;
        if (host.StartsWith('[')) host = host[1..host.IndexOf(']', StringComparison.Ordinal)];
        else if (host.LastIndexOf(':') is var c and > 0) host = host[..c];
        return host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    /// <summary>Sends a request with auth and retries; the response is successful or the failure is thrown.</summary>
    public async Task<HttpResponseMessage> SendAsync(Func<Uri, HttpRequestMessage> build, string scope, string what,
        CancellationToken cancellationToken, Func<HttpResponseMessage, bool>? accept = null)
    {
        var baseUri = await EndpointAsync(cancellationToken).ConfigureAwait(false);
        for (int attempt = 0; ; attempt++)
        {
            HttpResponseMessage? response = null;
            Exception? failure = null;
            try
            {
                response = await SendAuthorizedAsync(() => build(baseUri), scope, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode || (accept?.Invoke(response) ?? false)) return response;
                if (!IsTransient(response.StatusCode) || attempt >= _options.Retries)
                    throw await RegistryErrors.FromResponseAsync(response, Registry, what, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken) && attempt < _options.Retries)
            {
                failure = e;
            }
            var delay = Backoff(attempt, response);
            response?.Dispose();
            Retrying?.Invoke($"{what}: {(failure is null ? "HTTP " + (int)response!.StatusCode : Describe(failure))}; retrying in {delay.TotalSeconds:0.#} s ({attempt + 1}/{_options.Retries})");
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Told of each retry (for progress output).</summary>
    public event Action<string>? Retrying;

    public TimeSpan Backoff(int attempt, HttpResponseMessage? response = null)
    {
        if (response?.Headers.RetryAfter is { } ra)
        {
            var wait = ra.Delta ?? (ra.Date is { } d ? d - DateTimeOffset.UtcNow : TimeSpan.Zero);
            if (wait > TimeSpan.Zero) return wait < TimeSpan.FromSeconds(60) ? wait : TimeSpan.FromSeconds(60);
        }
        var ms = _options.RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 6)) * (0.8 + Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(Math.Min(ms, 30_000));
    }

    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>Connection failures, cut transfers and timeouts: worth another attempt. A user's cancel is not.</summary>
    public static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        // A certificate that does not verify will not verify on the next attempt either.
        HttpRequestException { InnerException: System.Security.Authentication.AuthenticationException } => false,
        // A full or failing disk under the store will not heal by asking the registry again.
        _ when Storage.StorageFaults.IsDiskFault(e) => false,
        HttpRequestException or IOException or SocketException or TimeoutException => true,
        StrataException { Kind: ErrorKind.Unavailable } => true,
        _ => false,
    };

    public static string Describe(Exception e) => e switch
    {
        OperationCanceledException => "timed out",
        HttpRequestException { InnerException: { } inner } h => $"{h.Message} ({inner.Message})",
        _ => e.Message,
    };

    private async Task<HttpResponseMessage> SendAuthorizedAsync(Func<HttpRequestMessage> build, string scope, CancellationToken cancellationToken)
    {
        bool retriedAuth = false;
        while (true)
        {
            var request = build();
            var auth = await AuthorizationAsync(scope, cancellationToken).ConfigureAwait(false);
            var response = await SendFollowingRedirectsAsync(request, auth, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized || retriedAuth) return response;
            var challenge = AuthChallenge.From(response);
            if (challenge is null || (challenge.IsBasic && (Credentials is null || auth is not null))) return response;
            // A new or expired challenge: learn it and try once more.
            _challenge = challenge;
            _tokens.TryRemove(scope, out _);
            retriedAuth = true;
            response.Dispose();
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpRequestMessage request, AuthenticationHeaderValue? auth, CancellationToken cancellationToken)
    {
        var origin = request.RequestUri!;
        for (int hops = 0; ; hops++)
        {
            // Credentials go only to the registry's own host: a redirect to storage must not carry them.
            if (auth is not null && SameOrigin(request.RequestUri!, origin)) request.Headers.Authorization = auth;
            using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            headers.CancelAfter(HeadersTimeout);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is null || hops >= 5
                || (request.Method != HttpMethod.Get && request.Method != HttpMethod.Head))
                return response;
            var next = new HttpRequestMessage(request.Method, new Uri(request.RequestUri!, response.Headers.Location));
            foreach (var h in request.Headers)
                if (h.Key is not "Authorization") next.Headers.TryAddWithoutValidation(h.Key, h.Value);
            response.Dispose();
            request.Dispose();
            request = next;
        }
    }

    private static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private async ValueTask<AuthenticationHeaderValue?> AuthorizationAsync(string scope, CancellationToken cancellationToken)
    {
        var challenge = _challenge;
        if (challenge is null) return null;
        if (challenge.IsBasic)
            return Credentials is null ? null : new AuthenticationHeaderValue("Basic", BasicValue(Credentials));
        while (true)
        {
            // Lazy: concurrent requests for one scope share one token request.
            var entry = _tokens.GetOrAdd(scope, s => new Lazy<Task<BearerToken>>(() => FetchTokenAsync(challenge, s, cancellationToken)));
            BearerToken token;
            try { token = await entry.Value.ConfigureAwait(false); }
            catch { _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<BearerToken>>>(scope, entry)); throw; }
            if (token.Expires > DateTimeOffset.UtcNow.AddSeconds(10)) return new AuthenticationHeaderValue("Bearer", token.Value);
            _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<BearerToken>>>(scope, entry));
        }
    }

    private static string BasicValue(RegistryCredentials c) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{c.Username}:{c.Password}"));

    private async Task<BearerToken> FetchTokenAsync(AuthChallenge challenge, string scope, CancellationToken cancellationToken)
    {
        if (challenge.Realm is null || !Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm))
            throw new StrataException(ErrorKind.PermissionDenied, $"registry {Registry}: bearer challenge without a usable realm");
        var query = new StringBuilder();
        if (challenge.Service is { } service) query.Append("service=").Append(Uri.EscapeDataString(service));
        foreach (var s in scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            query.Append(query.Length > 0 ? "&" : "").Append("scope=").Append(Uri.EscapeDataString(s));
        var uri = new UriBuilder(realm) { Query = (realm.Query.TrimStart('?') is { Length: > 0 } q ? q + "&" : "") + query }.Uri;
        for (int attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (Credentials is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicValue(Credentials));
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken) && attempt < _options.Retries)
            {
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            using (response)
            {
                if (IsTransient(response.StatusCode) && attempt < _options.Retries)
                {
                    await Task.Delay(Backoff(attempt, response), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                    throw new StrataException(ErrorKind.PermissionDenied,
                        $"registry {Registry}: the token service {realm.GetLeftPart(UriPartial.Path)} refused {(Credentials is null ? "anonymous access" : "the credentials for " + Credentials.Username)} (HTTP {(int)response.StatusCode})");
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                return BearerToken.Parse(body, Registry);
            }
        }
    }

    /// <summary>
    /// The registry's base URI, found once: GET /v2/ over https, then plain http where allowed. The answer's
    /// challenge (if any) tells how to authenticate, as docker does.
    /// </summary>
    public async Task<Uri> EndpointAsync(CancellationToken cancellationToken)
    {
        if (_base is { } known) return known;
        await _pingLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_base is { } raced) return raced;
            for (int attempt = 0; ; attempt++)
            {
                Exception? last = null;
                foreach (var scheme in PlainHttpAllowed ? new[] { "https", "http" } : ["https"])
                {
                    var uri = new Uri($"{scheme}://{Host}/");
                    try
                    {
                        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        cts.CancelAfter(TimeSpan.FromSeconds(30));
                        using var response = await _http.GetAsync(new Uri(uri, "v2/"), HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
                        if (IsTransient(response.StatusCode)) { last = new HttpRequestException($"HTTP {(int)response.StatusCode}"); break; }
                        // An HTTPS server answers plain HTTP with 400: the https failure above is the real one.
                        if (response.StatusCode == HttpStatusCode.BadRequest && scheme == "http" && last is HttpRequestException { InnerException: System.Security.Authentication.AuthenticationException } tls)
                            throw new StrataException(ErrorKind.Unavailable, $"registry {Registry}: TLS failed: {Describe(tls)} (--tls-verify=false skips verification)", tls);
                        if (response.StatusCode == HttpStatusCode.Unauthorized) _challenge = AuthChallenge.From(response);
                        _base = uri;
                        return uri;
                    }
                    catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException && !(scheme == "https" && PlainHttpAllowed))
                    {
                        throw new StrataException(ErrorKind.Unavailable, $"registry {Registry}: TLS failed: {Describe(e)} (--tls-verify=false skips verification)", e);
                    }
                    catch (Exception e) when (IsTransient(e, cancellationToken) || e is HttpRequestException)
                    {
                        last = e;
                    }
                }
                if (attempt >= _options.Retries)
                    throw new StrataException(ErrorKind.Unavailable, $"registry {Registry} is not reachable: {Describe(last!)}");
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _pingLock.Release();
        }
    }

    /// <summary>Checks that the credentials open the registry (login): /v2/ with them, or a token for no scope.</summary>
    public async Task VerifyCredentialsAsync(CancellationToken cancellationToken)
    {
        await EndpointAsync(cancellationToken).ConfigureAwait(false);
        if (_challenge is null) return;
        using var response = await SendAuthorizedAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri(_base!, "v2/")), "", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new StrataException(ErrorKind.PermissionDenied, $"registry {Registry}: invalid username or password");
        if (!response.IsSuccessStatusCode)
            throw await RegistryErrors.FromResponseAsync(response, Registry, "login", cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _http.Dispose();
        _pingLock.Dispose();
    }

    private sealed record BearerToken(string Value, DateTimeOffset Expires)
    {
        public static BearerToken Parse(byte[] body, string registry)
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                var root = doc.RootElement;
                string? value = null;
                foreach (var name in new[] { "token", "access_token" })
                    if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s) { value = s; break; }
                if (value is null) throw StrataException.Invalid($"registry {registry}: the token service answered without a token");
                // Tokens last 60 s unless told otherwise (never less, says the spec).
                int seconds = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var n) && n >= 60 ? n : 60;
                return new BearerToken(value, DateTimeOffset.UtcNow.AddSeconds(seconds));
            }
            catch (JsonException e)
            {
                throw StrataException.Invalid($"registry {registry}: the token service answered invalid JSON: {e.Message}");
            }
        }
    }
}
