using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Cli;

/// <summary>One local registry for the crash tests' pull and push, started on first use and stopped with the class.</summary>
public sealed class CrashRegistry : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private RegistryServer? _server;

    /// <summary>The registry, holding kitchensink as crash/ks:1.</summary>
    public async Task<RegistryServer> GetAsync()
    {
        Assert.True(await _gate.WaitAsync(TimeSpan.FromSeconds(120)), "the crash tests' registry did not start within 120 s");
        try
        {
            if (_server is null)
            {
                var server = await RegistryServer.StartAsync();
                try { RegistryFixture.Seed(server, "kitchensink", "crash/ks:1"); }
                catch
                {
                    await server.DisposeAsync();
                    throw;
                }
                _server = server;
            }
            return _server;
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _gate.Dispose();
    }
}
