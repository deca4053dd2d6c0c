namespace Strata.Registry;

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

    /// <summary>--authfile; otherwise the default auth files (see <see cref="AuthFile"/>).</summary>
    public string? AuthFilePath { get; init; }

    /// <summary>Attempts after the first for a transient failure (connection lost, 429, 5xx).</summary>
    public int Retries { get; init; } = EnvInt("STRATA_REGISTRY_RETRIES", 4);

    /// <summary>The first backoff; it doubles each attempt (a Retry-After answer wins).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(EnvInt("STRATA_REGISTRY_RETRY_DELAY_MS", 500));

    /// <summary>A transfer that moves no byte for this long is dropped and retried.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(EnvInt("STRATA_REGISTRY_STALL_TIMEOUT", 60));

    /// <summary>Blobs up to this size are uploaded in one PUT; larger ones in PATCH chunks of this size.</summary>
    public long ChunkSize { get; init; } = EnvInt("STRATA_REGISTRY_CHUNK_SIZE", 32 << 20) is > 0 and var c ? c : 32 << 20;

    /// <summary>Blobs moved at once.</summary>
    public int Parallelism { get; init; } = 6;

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v >= 0 ? v : fallback;
}
