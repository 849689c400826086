using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Engine;
using Pipeline.Tests.Shared;

namespace Pipeline.Host.Tests.Engine;

/// <summary>The engine tests' use of the shared <see cref="AzuriteFixture"/> (each test uses its own containers).</summary>
internal static class EngineAzurite
{
    /// <summary>Engine options on fresh containers, with short poll intervals for tests.</summary>
    public static DurableEngineOptions NewOptions(this AzuriteFixture azurite, string? container = null)
    {
        container ??= "eng-" + Guid.NewGuid().ToString("N")[..12];
        return new DurableEngineOptions
        {
            ConnectionString = azurite.ConnectionString,
            ContainerName = container,
            StatusContainerName = container + "-runs",
            PollInterval = TimeSpan.FromMilliseconds(100),
            StatusInterval = TimeSpan.FromMilliseconds(100),
        };
    }

    public static BlobContainerClient NewContainer(this AzuriteFixture azurite)
    {
        var c = new BlobContainerClient(azurite.ConnectionString, "toy-" + Guid.NewGuid().ToString("N")[..12]);
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
        await foreach (var _ in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, default)) n++;
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
