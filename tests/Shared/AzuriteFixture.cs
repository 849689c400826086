using Pipeline.Storage;
using Pipeline.Storage.Azurite;

namespace Pipeline.Tests.Shared;

/// <summary>
/// The one Azurite fixture of every test project (linked into each project from tests/Shared): an in-memory Azurite
/// started by process id on free ports, with the storage layout's containers and queues created, stopped by process id
/// when the class or collection ends. Derive to add what a project needs (a dataset, an environment variable).
/// </summary>
public class AzuriteFixture : IAsyncLifetime
{
    public AzuriteServer Server { get; private set; } = null!;
    public string ConnectionString => Server.ConnectionString;
    public PipelineStorage Storage { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Server = await AzuriteServer.StartAsync();
        Storage = new PipelineStorage(Server.ConnectionString);
        await Storage.EnsureCreatedAsync();
    }

    public virtual Task DisposeAsync()
    {
        Server?.Dispose();
        return Task.CompletedTask;
    }
}
