using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Host.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Queues;
using Pipeline.Tests.Shared;

namespace Pipeline.Host.Tests.Triggers;

/// <summary>Each test uses its own Azurite: the listener drains the one queue "augment-requests".</summary>
public class AugmentRequestListenerTests
{
    private static AugmentRequestListenerOptions FastOptions => new()
    {
        RetryDelay = TimeSpan.Zero, MaxPollInterval = TimeSpan.FromMilliseconds(200), MaxReconnectDelay = TimeSpan.FromSeconds(1),
    };

    private static string ValidRequest(string? runId) =>
        PipelineJson.Serialize(new AugmentationRequest
        {
            RunId = runId, Dataset = "d1", Model = "models/m/1",
            Tasks = [new AugmentationTask { Mode = TaskMode.Insertion, Count = 3 }],
        });

    private static async Task<(AzuriteFixture Azurite, AugmentRequestListener Listener)> StartAsync(RecordingOrchestrationClient client, AugmentRequestListenerOptions? options = null)
    {
        var azurite = new AzuriteFixture();
        await azurite.InitializeAsync();
        var listener = new AugmentRequestListener(azurite.Storage, client, Options.Create(options ?? FastOptions), NullLogger<AugmentRequestListener>.Instance);
        await listener.StartAsync(CancellationToken.None);
        return (azurite, listener);
    }

    private static Task SendAsync(PipelineStorage storage, string text, string queue = StorageLayout.AugmentRequestsQueue) =>
        QueueMessages.SendAsync(storage.Queue(queue), Encoding.UTF8.GetBytes(text));

    private static async Task<int> CountAsync(PipelineStorage storage, string queue) =>
        (await storage.Queue(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    [Fact]
    public async Task A_valid_request_starts_its_run_and_is_deleted()
    {
        var client = new RecordingOrchestrationClient();
        var (azurite, listener) = await StartAsync(client);
        try
        {
            await SendAsync(azurite.Storage, ValidRequest("run-a"));
            await Eventually.TrueAsync(() => !client.Started.IsEmpty, "the run to start");
            var (name, id, input) = Assert.Single(client.Started);
            Assert.Equal("AugmentationRun", name);
            Assert.Equal("run-a", id);
            Assert.Equal("run-a", input.RunId);
            Assert.Equal("d1", input.Dataset);
            await Eventually.TrueAsync(async () => await CountAsync(azurite.Storage, StorageLayout.AugmentRequestsQueue) == 0, "the message to be deleted");
        }
        finally { await listener.StopAsync(CancellationToken.None); await azurite.DisposeAsync(); }
    }

    [Fact]
    public async Task A_request_without_a_run_id_gets_one_derived_from_its_message()
    {
        var client = new RecordingOrchestrationClient();
        var (azurite, listener) = await StartAsync(client);
        try
        {
            var sent = await azurite.Storage.Queue(StorageLayout.AugmentRequestsQueue).SendMessageAsync(QueueMessages.Encode(Encoding.UTF8.GetBytes(ValidRequest(null))));
            await Eventually.TrueAsync(() => !client.Started.IsEmpty, "the run to start");
            var started = Assert.Single(client.Started);
            Assert.Equal(AugmentRequestListener.RunIdForMessage(sent.Value.MessageId), started.InstanceId);
            Assert.True(ResourceNames.IsValidRunId(started.InstanceId));
            Assert.Equal(started.InstanceId, started.Input.RunId);
        }
        finally { await listener.StopAsync(CancellationToken.None); await azurite.DisposeAsync(); }
    }

    [Fact]
    public async Task Malformed_json_is_rejected_with_a_status_and_not_retried()
    {
        var client = new RecordingOrchestrationClient();
        var (azurite, listener) = await StartAsync(client);
        try
        {
            const string body = "{\"schemaVersion\": 1, \"dataset\": ";
            await SendAsync(azurite.Storage, body);
            var run = azurite.Storage.Run(AugmentRequestListener.RejectedRunId(Encoding.UTF8.GetBytes(body)));
            await Eventually.TrueAsync(async () => await run.ReadStatusAsync() is not null, "the rejection status");
            var status = (await run.ReadStatusAsync())!;
            Assert.Equal(RunState.Rejected, status.State);
            Assert.StartsWith("$: malformed JSON", Assert.Single(status.Problems));
            await Eventually.TrueAsync(async () => await CountAsync(azurite.Storage, StorageLayout.AugmentRequestsQueue) == 0, "the message to be deleted");
            Assert.Equal(0, await CountAsync(azurite.Storage, StorageLayout.AugmentRequestsPoisonQueue));
            Assert.Empty(client.Calls);
        }
        finally { await listener.StopAsync(CancellationToken.None); await azurite.DisposeAsync(); }
    }

    [Fact]
    public async Task An_invalid_request_gets_a_status_naming_every_problem()
    {
        var client = new RecordingOrchestrationClient();
        var (azurite, listener) = await StartAsync(client);
        try
        {
            await SendAsync(azurite.Storage, """
                {"schemaVersion":1,"runId":"run-bad","dataset":"../x","tasks":[{"mode":"paste","count":0}],"sampler":{"steps":-1},"extra":true}
                """);
            var run = azurite.Storage.Run("run-bad");
            await Eventually.TrueAsync(async () => await run.ReadStatusAsync() is not null, "the rejection status");
            var status = (await run.ReadStatusAsync())!;
            Assert.Equal(RunState.Rejected, status.State);
            string all = string.Join("\n", status.Problems);
            foreach (var path in new[] { "$.dataset:", "$.tasks[0].mode:", "$.tasks[0].count:", "$.sampler.steps:", "$.extra:", "$.model:" })
                Assert.True(status.Problems.Any(p => p.StartsWith(path)), $"no problem at {path} in:\n{all}");
            Assert.Contains("6 problems", status.Error);
            await Eventually.TrueAsync(async () => await CountAsync(azurite.Storage, StorageLayout.AugmentRequestsQueue) == 0, "the message to be deleted");
            Assert.Empty(client.Calls);
        }
        finally { await listener.StopAsync(CancellationToken.None); await azurite.DisposeAsync(); }
    }

    [Fact]
    public async Task An_invalid_request_cannot_overwrite_the_status_of_an_existing_run()
    {
        var client = new RecordingOrchestrationClient();
        var (azurite, listener) = await StartAsync(client);
        try
        {
            var existing = azurite.Storage.Run("run-live");
            await existing.UpdateStatusAsync(_ => new RunStatus { RunId = "run-live", State = RunState.Running });
            const string body = """{"schemaVersion":1,"runId":"run-live"}""";
            await SendAsync(azurite.Storage, body);
            var rejected = azurite.Storage.Run(AugmentRequestListener.RejectedRunId(Encoding.UTF8.GetBytes(body)));
            await Eventually.TrueAsync(async () => await rejected.ReadStatusAsync() is not null, "the rejection status");
            Assert.Equal(RunState.Running, (await existing.ReadStatusAsync())!.State);
        }
        finally { await listener.StopAsync(CancellationToken.None); await azurite.DisposeAsync(); }
    }

    [Fact]
    public async Task A_message_failing_five_times_lands_in_the_poison_queue_with_the_reason_recorded()
    {
        var client = new RecordingOrchestrationClient { Fail = (_, n) => new InvalidOperationException($"engine unavailable (call {n})") };
        var (azurite, listener) = await StartAsync(client);
        try
        {
            string body = ValidRequest("run-poison");
            await SendAsync(azurite.Storage, body);
            await Eventually.TrueAsync(async () => await CountAsync(azurite.Storage, StorageLayout.AugmentRequestsPoisonQueue) == 1, "the poison message");
            Assert.Equal(5, client.Calls["run-poison"]);
            Azure.Storage.Queues.Models.QueueMessage? poisoned = null;
            await Eventually.TrueAsync(async () => (poisoned = (await azurite.Storage.Queue(StorageLayout.AugmentRequestsPoisonQueue).ReceiveMessageAsync()).Value) is not null, "receiving the poison message");
            Assert.Equal(body, Encoding.UTF8.GetString(QueueMessages.Decode(poisoned!)));
            var status = (await azurite.Storage.Run("run-poison").ReadStatusAsync())!;
            Assert.Equal(RunState.Failed, status.State);
            Assert.Contains("augment-requests-poison after 5 failed attempts", status.Error);
            Assert.Contains("engine unavailable (call 5)", status.Error);
            await Eventually.TrueAsync(async () => await CountAsync(azurite.Storage, StorageLayout.AugmentRequestsQueue) == 0, "the original to be deleted");
            Assert.Equal(5, client.Calls["run-poison"]);
        }
        finally { await listener.StopAsync(CancellationToken.None); await azurite.DisposeAsync(); }
    }

    [Fact]
    public async Task A_transient_failure_is_retried_and_then_succeeds()
    {
        var client = new RecordingOrchestrationClient { Fail = (_, n) => n <= 2 ? new TimeoutException("busy") : null };
        var (azurite, listener) = await StartAsync(client);
        try
        {
            await SendAsync(azurite.Storage, ValidRequest("run-retry"));
            await Eventually.TrueAsync(() => !client.Started.IsEmpty, "the run to start");
            Assert.Equal(3, client.Calls["run-retry"]);
            Assert.Null(await azurite.Storage.Run("run-retry").ReadStatusAsync());
            Assert.Equal(0, await CountAsync(azurite.Storage, StorageLayout.AugmentRequestsPoisonQueue));
        }
        finally { await listener.StopAsync(CancellationToken.None); await azurite.DisposeAsync(); }
    }
}
