namespace Strata.Registry;

/// <summary>A user name and password (or token) for a registry.</summary>
/// <param name="Username">The user name.</param>
/// <param name="Password">The password or token.</param>
public sealed record RegistryCredentials(string Username, string Password)
{
    /// <summary>USER:PASS, as --creds takes it (the password may contain ':').</summary>
    public static RegistryCredentials Parse(string value)
    {
        int colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) throw Errors.StrataException.BadArgument("credentials must be USER:PASSWORD");
        return new RegistryCredentials(value[..colon], value[(colon + 1)..]);
    }
}

/// <summary>How to reach registries: TLS, credentials, retries, parallelism.</summary>
public sealed record RegistryOptions
{
    /// <summary>
    /// Null: verify TLS, but a loopback registry may fall back to plain HTTP (as docker allows 127.0.0.0/8).
    /// False: skip verification and allow plain HTTP for every registry (podman's --tls-verify=false).
    /// </summary>
    public bool? TlsVerify { get; init; }

    /// <summary>--creds; otherwise the auth file's entry for the registry, if any.</summary>
    public RegistryCredentials? Credentials { get; init; }

    /// <summary>Where credentials are looked up when <see cref="Credentials"/> is null, and where login keeps them; null: nowhere.</summary>
    public AuthFiles? AuthFiles { get; init; }

    /// <summary>
    /// Sends every registry request (tests, proxies, custom TLS); null: Strata's own. It must not follow redirects
    /// (Strata follows them itself, dropping credentials on the way to another host). Not disposed by Strata.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Attempts after the first for a transient failure (connection lost, 429, 5xx).</summary>
    public int Retries { get; init; } = 4;

    /// <summary>The first backoff; it doubles each attempt (a Retry-After answer wins).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A transfer that moves no byte for this long is dropped and retried.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Blobs up to this size are uploaded in one PUT; larger ones in PATCH chunks of this size.</summary>
    public long ChunkSize { get; init; } = 32 << 20;

    /// <summary>Blobs moved at once.</summary>
    public int Parallelism { get; init; } = 6;

}
