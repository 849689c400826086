using Pipeline.Storage.Azurite;

namespace Pipeline.Storage.Tests;

/// <summary>One in-memory Azurite per test class, with the layout's containers and queues created.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public AzuriteServer Server { get; private set; } = null!;
    public PipelineStorage Storage { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await AzuriteServer.StartAsync();
        Storage = new PipelineStorage(Server.ConnectionString);
        await Storage.EnsureCreatedAsync();
    }

    public Task DisposeAsync() { Server.Dispose(); return Task.CompletedTask; }
}
