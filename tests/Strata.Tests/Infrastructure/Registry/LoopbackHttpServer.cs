using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Strata.Tests.Infrastructure.Registry;

/// <summary>
/// Kestrel on 127.0.0.1 and a port the kernel picks (so no other test can take it between choice and bind), one
/// handler for every request. Kestrel rather than HttpListener: the managed HttpListener keeps only the last of
/// repeated request headers, and Go clients (skopeo, podman) send one Accept line per media type.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackHttpServer(WebApplication app, string host)
    {
        _app = app;
        Host = host;
    }

    /// <summary>"127.0.0.1:PORT".</summary>
    public string Host { get; }

    public static LoopbackHttpServer Start(RequestDelegate handler, Action<KestrelServerOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.AddServerHeader = false;
            configure?.Invoke(kestrel);
        });
        var app = builder.Build();
        app.Run(handler);
        // Off the test's synchronization context: constructors call this, and blocking on it there could deadlock.
        Task.Run(() => app.StartAsync()).GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new LoopbackHttpServer(app, new Uri(address).Authority);
    }

    public async ValueTask DisposeAsync()
    {
        // A request still streaming (a Slow fault) is cut after a moment instead of holding the test.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(grace.Token);
        await _app.DisposeAsync();
    }
}
