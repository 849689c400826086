using Azure.Storage.Blobs;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Orchestration;
using Pipeline.Host.TaskHub;
using Pipeline.Tests.Shared;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>
/// The shared in-memory Azurite (tests/Shared) and one running Durable Task worker for the in-process engine tests: a worker takes a few
/// seconds to start (partition leases), so the tests share it. Its registry holds every test's orchestrations and
/// activities (<see cref="EngineTestOrchestrations"/>); each test uses its own instance ids. Tests that need their
/// own hub (child processes) call <see cref="NewOptions"/>.
/// </summary>
public sealed class EngineFixture : AzuriteFixture
{
    public TaskHubEngine Engine { get; private set; } = null!;
    public BlobContainerClient Toy { get; private set; } = null!;
    public EngineTestOrchestrations Orchestrations { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Toy = NewContainer();
        Orchestrations = new EngineTestOrchestrations(Toy);
        Engine = new TaskHubEngine(NewOptions("shared"));
        await Engine.StartWorkerAsync(Orchestrations.Registry);
    }

    public override async Task DisposeAsync()
    {
        await Engine.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>Options on a fresh task hub (its own queues, tables, leases and status container).</summary>
    public TaskHubOptions NewOptions(string? hub = null)
    {
        hub ??= "t" + Guid.NewGuid().ToString("N")[..12];
        return new TaskHubOptions
        {
            ConnectionString = ConnectionString,
            TaskHubName = hub,
            StatusContainerName = hub.ToLowerInvariant() + "-runs",
            ClientPollInterval = TimeSpan.FromMilliseconds(100),
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
public sealed class EngineCollection : ICollectionFixture<EngineFixture>
{
    public const string Name = "engine-azurite";
}

internal static class EngineTestExtensions
{
    public static async Task<OrchestrationInstance> WaitAsync(this TaskHubEngine engine, string instanceId, int seconds = 180)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        return await engine.Client.WaitForCompletionAsync(instanceId, cts.Token);
    }

    public static async Task<int> CountAsync(this BlobContainerClient container, string prefix)
    {
        int n = 0;
        await foreach (var _ in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, default)) n++;
        return n;
    }

    /// <summary>Polls until <paramref name="condition"/> holds (fails the test after the timeout).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }
}
