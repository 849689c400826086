using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Host.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Pipeline.Storage.Datasets;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Tests.Triggers;

/// <summary>Both listeners keep working when Azurite stops and comes back on the same ports with the same --location.</summary>
public class StorageRestartTests
{
    [Fact]
    public async Task Listeners_survive_an_azurite_restart()
    {
        string location = Path.Combine(Path.GetTempPath(), "pipeline-restart-" + Guid.NewGuid().ToString("N")[..8]);
        var first = await AzuriteServer.StartAsync(new AzuriteOptions { Location = location });
        var ports = new AzuriteOptions { Location = location, BlobPort = first.BlobPort, QueuePort = first.QueuePort, TablePort = first.TablePort };
        AzuriteServer? second = null;
        var storage = new PipelineStorage(new PipelineStorageOptions { ConnectionString = first.ConnectionString, MaxRetries = 1, NetworkTimeout = TimeSpan.FromSeconds(5) });
        await storage.EnsureCreatedAsync();
        var client = new RecordingOrchestrationClient();
        var ingestor = new CountingIngestor(new DatasetIndexIngestor(storage));
        var queueListener = new AugmentRequestListener(storage, client, Options.Create(new AugmentRequestListenerOptions
        {
            RetryDelay = TimeSpan.Zero, MaxPollInterval = TimeSpan.FromMilliseconds(200), MaxReconnectDelay = TimeSpan.FromSeconds(1),
        }), NullLogger<AugmentRequestListener>.Instance);
        var dropListener = new DatasetDropListener(storage, ingestor, Options.Create(new DatasetDropListenerOptions
        {
            PollInterval = TimeSpan.FromMilliseconds(200), Debounce = TimeSpan.FromMilliseconds(500), MaxReconnectDelay = TimeSpan.FromSeconds(1),
        }), NullLogger<DatasetDropListener>.Instance);
        await queueListener.StartAsync(CancellationToken.None);
        await dropListener.StartAsync(CancellationToken.None);
        try
        {
            await Send(storage, "run-before");
            await storage.Dataset("before").UploadAsync("a.bin", new MemoryStream([1]));
            await Eventually.TrueAsync(() => client.Started.Any(s => s.InstanceId == "run-before"), "the first run");
            await Eventually.TrueAsync(() => ingestor.Count.ContainsKey("before"), "the first dataset");
            // ingestion is complete once the index records the state it was made from (a stop before that re-ingests, by design)
            await Eventually.TrueAsync(async () => (await storage.Blob(storage.Dataset("before").IndexPath).GetPropertiesAsync()).Value
                .Metadata.ContainsKey(DatasetDropListener.SourceFingerprintMetadataKey), "the index to be marked");

            string listedBefore = await Listing(storage);
            first.Stop(TimeSpan.FromSeconds(10)); // graceful: Azurite saves its databases under --location
            await Task.Delay(TimeSpan.FromSeconds(3)); // both listeners poll a dead endpoint for a while
            second = await AzuriteServer.StartAsync(ports);

            await Send(storage, "run-after");
            await storage.Dataset("after").UploadAsync("a.bin", new MemoryStream(RandomNumberGenerator.GetBytes(10)));
            await Eventually.TrueAsync(() => client.Started.Any(s => s.InstanceId == "run-after"), "the run sent after the restart");
            await Eventually.TrueAsync(() => ingestor.Count.ContainsKey("after"), "the dataset dropped after the restart");
            Assert.True(ingestor.Count["before"] == 1, listedBefore + "\n---\n" + await Listing(storage)); // its index survived in --location: not ingested again
            Assert.Equal(2, client.Started.Count);
        }
        finally
        {
            await queueListener.StopAsync(CancellationToken.None);
            await dropListener.StopAsync(CancellationToken.None);
            first.Dispose();
            second?.Dispose();
            try { Directory.Delete(location, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<string> Listing(PipelineStorage storage)
    {
        var sb = new StringBuilder();
        await foreach (var e in storage.ListAsync(StorageLayout.DatasetsContainer, "before/")) sb.AppendLine($"{e.Path} {e.Size} {e.ETag} {e.Sha256}");
        return sb.ToString();
    }

    private static Task Send(PipelineStorage storage, string runId) =>
        QueueMessages.SendAsync(storage.Queue(StorageLayout.AugmentRequestsQueue), Encoding.UTF8.GetBytes(PipelineJson.Serialize(new AugmentationRequest
        {
            RunId = runId, Dataset = "d", Model = "models/m/1", Tasks = [new AugmentationTask { Mode = TaskMode.Insertion, Count = 1 }],
        })));
}
