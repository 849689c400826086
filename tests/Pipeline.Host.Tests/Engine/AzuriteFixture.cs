using Azure.Storage.Blobs;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Orchestration;
using Pipeline.Storage.Azurite;

namespace Pipeline.Host.Tests.Engine;

/// <summary>One in-memory Azurite for the engine tests (each test uses its own containers).</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public AzuriteServer Server { get; private set; } = null!;
    public string ConnectionString => Server.ConnectionString;

    public async Task InitializeAsync() => Server = await AzuriteServer.StartAsync();

    public Task DisposeAsync() { Server.Dispose(); return Task.CompletedTask; }

    /// <summary>Engine options on fresh containers, with short poll intervals for tests.</summary>
    public DurableEngineOptions NewOptions(string? container = null)
    {
        container ??= "eng-" + Guid.NewGuid().ToString("N")[..12];
        return new DurableEngineOptions
        {
            ConnectionString = ConnectionString,
            ContainerName = container,
            StatusContainerName = container + "-runs",
            PollInterval = TimeSpan.FromMilliseconds(100),
            StatusInterval = TimeSpan.FromMilliseconds(100),
        };
    }

    public BlobContainerClient NewContainer()
    {
        var c = new BlobContainerClient(ConnectionString, "toy-" + Guid.NewGuid().ToString("N")[..12]);
        c.CreateIfNotExists();
        return c;
    }
}

[CollectionDefinition(Name)]
public sealed class EngineCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "engine-azurite";
}

internal static class EngineTestExtensions
{
    public static async Task<OrchestrationInstance> WaitAsync(this DurableEngine engine, string instanceId, int seconds = 180)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        return await engine.Client.WaitForCompletionAsync(instanceId, cts.Token);
    }

    public static async Task<int> CountAsync(this BlobContainerClient container, string prefix)
    {
        int n = 0;
        await foreach (var _ in container.GetBlobsAsync(prefix: prefix)) n++;
        return n;
    }

    /// <summary>Polls until <paramref name="condition"/> holds (fails the test after the timeout).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
