using System.Text;
using Azure.Storage.Queues.Models;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Host.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Queues;
using Pipeline.Tests.Shared;

namespace Pipeline.Host.Tests.Triggers;

/// <summary>
/// The queue-trigger cases, run against both hosts (<see cref="LocalHostTriggerTests"/>, <see cref="AzureHostTriggerTests"/>):
/// the same message must end the same way on each, in status.json, in the poison queues and in what the orchestrations
/// are told. Each class has its own in-memory Azurite; each test starts its own host.
/// </summary>
public abstract class TriggerCases(AzuriteFixture azurite)
{
    protected abstract Task<ITriggerHost> StartHostAsync(PipelineStorage storage, RecordingOrchestrationClient client);

    /// <summary>Runs one case on a fresh host over the class's Azurite, its queues emptied first (the tests of a class
    /// run one at a time; run ids and message bodies differ between cases, so their status blobs do not meet).</summary>
    private async Task RunAsync(RecordingOrchestrationClient client, Func<PipelineStorage, ITriggerHost, Task> test)
    {
        var storage = azurite.Storage;
        foreach (string queue in StorageLayout.Queues)
            await storage.Queue(queue).ClearMessagesAsync();
        await using var host = await StartHostAsync(storage, client);
        await test(storage, host);
    }

    private static string ValidRequest(string? runId) =>
        PipelineJson.Serialize(new AugmentationRequest
        {
            RunId = runId, Dataset = "d1", Model = "models/m/1",
            Tasks = [new AugmentationTask { Mode = TaskMode.Insertion, Count = 3 }],
        });

    private static async Task<string> SendAsync(PipelineStorage storage, string text, string queue = StorageLayout.AugmentRequestsQueue) =>
        await QueueMessages.SendAsync(storage.Queue(queue), Encoding.UTF8.GetBytes(text));

    private static async Task<int> CountAsync(PipelineStorage storage, string queue) =>
        (await storage.Queue(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    private static Task DrainedAsync(PipelineStorage storage, string queue) =>
        Eventually.TrueAsync(async () => await CountAsync(storage, queue) == 0, $"{queue} to be empty");

    /// <summary>The poison queue's messages, decoded (peeked: they stay).</summary>
    private static async Task<List<string>> PoisonAsync(PipelineStorage storage, string queue)
    {
        PeekedMessage[] peeked = (await storage.Queue(StorageLayout.PoisonQueueOf(queue)).PeekMessagesAsync(32)).Value;
        return peeked.Select(m => Encoding.UTF8.GetString(QueueMessages.Decode(m.Body.ToString()))).ToList();
    }

    [Fact]
    public async Task A_valid_request_starts_its_run_under_its_run_id_and_is_consumed()
    {
        var client = new RecordingOrchestrationClient();
        await RunAsync(client, async (storage, _) =>
        {
            await SendAsync(storage, ValidRequest("run-a"));
            await DrainedAsync(storage, StorageLayout.AugmentRequestsQueue);
            var (name, id, input) = Assert.Single(client.Started);
            Assert.Equal((RunActivityNames.AugmentationRun, "run-a", "run-a", "d1"), (name, id, input.RunId, input.Dataset));
            Assert.Empty(await PoisonAsync(storage, StorageLayout.AugmentRequestsQueue));
        });
    }

    [Fact]
    public async Task A_request_without_a_run_id_runs_under_one_derived_from_its_message_id()
    {
        var client = new RecordingOrchestrationClient();
        await RunAsync(client, async (storage, _) =>
        {
            string messageId = await SendAsync(storage, ValidRequest(null));
            await DrainedAsync(storage, StorageLayout.AugmentRequestsQueue);
            var started = Assert.Single(client.Started);
            Assert.Equal(TriggerRules.RunIdForMessage(messageId), started.InstanceId);
            Assert.Equal(started.InstanceId, started.Input.RunId);
            Assert.True(ResourceNames.IsValidRunId(started.InstanceId));
        });
    }

    [Fact]
    public async Task Malformed_json_is_rejected_under_a_name_from_its_content_and_not_retried()
    {
        var client = new RecordingOrchestrationClient();
        await RunAsync(client, async (storage, _) =>
        {
            const string body = "{\"schemaVersion\": 1, \"dataset\": ";
            await SendAsync(storage, body);
            await DrainedAsync(storage, StorageLayout.AugmentRequestsQueue);
            var status = await storage.Run(TriggerRules.RejectedRunId(Encoding.UTF8.GetBytes(body))).ReadStatusAsync();
            Assert.NotNull(status);
            Assert.Equal(RunState.Rejected, status.State);
            Assert.StartsWith("$: malformed JSON", Assert.Single(status.Problems));
            Assert.Empty(client.Calls);
            Assert.Empty(await PoisonAsync(storage, StorageLayout.AugmentRequestsQueue));
        });
    }

    [Fact]
    public async Task An_invalid_request_naming_a_free_run_id_is_rejected_there_with_every_problem()
    {
        var client = new RecordingOrchestrationClient();
        await RunAsync(client, async (storage, _) =>
        {
            await SendAsync(storage, """
                {"schemaVersion":1,"runId":"run-bad","dataset":"../x","tasks":[{"mode":"paste","count":0}],"sampler":{"steps":-1},"extra":true}
                """);
            await DrainedAsync(storage, StorageLayout.AugmentRequestsQueue);
            var status = await storage.Run("run-bad").ReadStatusAsync();
            Assert.NotNull(status);
            Assert.Equal(RunState.Rejected, status.State);
            foreach (var path in new[] { "$.dataset:", "$.tasks[0].mode:", "$.tasks[0].count:", "$.sampler.steps:", "$.extra:", "$.model:" })
                Assert.True(status.Problems.Any(p => p.StartsWith(path, StringComparison.Ordinal)), $"no problem at {path} in:\n{string.Join("\n", status.Problems)}");
            Assert.Contains("6 problems", status.Error);
            Assert.Empty(client.Calls);
        });
    }

    [Fact]
    public async Task An_invalid_request_naming_an_existing_run_leaves_that_run_alone()
    {
        await RunAsync(new RecordingOrchestrationClient(), async (storage, _) =>
        {
            await storage.Run("run-live").UpdateStatusAsync(_ => new RunStatus { RunId = "run-live", State = RunState.Running });
            const string body = """{"schemaVersion":1,"runId":"run-live"}""";
            await SendAsync(storage, body);
            await DrainedAsync(storage, StorageLayout.AugmentRequestsQueue);
            Assert.Equal(RunState.Rejected, (await storage.Run(TriggerRules.RejectedRunId(Encoding.UTF8.GetBytes(body))).ReadStatusAsync())?.State);
            Assert.Equal(RunState.Running, (await storage.Run("run-live").ReadStatusAsync())?.State);
        });
    }

    [Fact]
    public async Task A_start_that_fails_twice_is_retried_and_then_starts_the_run()
    {
        var client = new RecordingOrchestrationClient { Fail = (_, n) => n <= 2 ? new TimeoutException("busy") : null };
        await RunAsync(client, async (storage, _) =>
        {
            await SendAsync(storage, ValidRequest("run-retry"));
            await Eventually.TrueAsync(() => !client.Started.IsEmpty, "the run to start");
            await DrainedAsync(storage, StorageLayout.AugmentRequestsQueue);
            Assert.Equal(3, client.Calls["run-retry"]);
            Assert.Null(await storage.Run("run-retry").ReadStatusAsync());
            Assert.Empty(await PoisonAsync(storage, StorageLayout.AugmentRequestsQueue));
        });
    }

    [Fact]
    public async Task A_start_that_always_fails_is_tried_max_times_then_the_run_is_Failed_and_the_message_poisoned()
    {
        var client = new RecordingOrchestrationClient { Fail = (_, n) => new InvalidOperationException($"engine unavailable (call {n})") };
        await RunAsync(client, async (storage, host) =>
        {
            string body = ValidRequest("run-poison");
            await SendAsync(storage, body);
            await Eventually.TrueAsync(async () => (await PoisonAsync(storage, StorageLayout.AugmentRequestsQueue)).Count > 0, "the poison message");
            await DrainedAsync(storage, StorageLayout.AugmentRequestsQueue);
            Assert.Equal(body, Assert.Single(await PoisonAsync(storage, StorageLayout.AugmentRequestsQueue)));
            Assert.Equal(host.MaxDequeueCount, client.Calls["run-poison"]);
            var status = await storage.Run("run-poison").ReadStatusAsync();
            Assert.NotNull(status);
            Assert.Equal(RunState.Failed, status.State);
            Assert.Contains($"augment-requests-poison after {host.MaxDequeueCount} failed attempts", status.Error);
            Assert.Contains($"engine unavailable (call {host.MaxDequeueCount})", status.Error);
        });
    }

    [Fact]
    public async Task A_malformed_inference_message_goes_to_the_poison_queue_at_once_and_tells_no_orchestration()
    {
        var client = new RecordingOrchestrationClient();
        await RunAsync(client, async (storage, _) =>
        {
            const string body = """{"runId":"run-x","shardIndex":"zero"}""";
            await SendAsync(storage, body, StorageLayout.InferenceRequestsQueue);
            await Eventually.TrueAsync(async () => (await PoisonAsync(storage, StorageLayout.InferenceRequestsQueue)).Count > 0, "the poison message");
            await DrainedAsync(storage, StorageLayout.InferenceRequestsQueue);
            Assert.Equal(body, Assert.Single(await PoisonAsync(storage, StorageLayout.InferenceRequestsQueue)));
            Assert.Empty(client.Events);
        });
    }

    [Fact]
    public async Task An_inference_message_missing_its_instance_is_malformed_too()
    {
        var client = new RecordingOrchestrationClient();
        await RunAsync(client, async (storage, _) =>
        {
            const string body = """{"runId":"run-x","shardIndex":0,"shardBlob":"plan/shard-0000.json","attempt":1}""";
            await SendAsync(storage, body, StorageLayout.InferenceRequestsQueue);
            await Eventually.TrueAsync(async () => (await PoisonAsync(storage, StorageLayout.InferenceRequestsQueue)).Count > 0, "the poison message");
            Assert.Empty(client.Events);
        });
    }

    [Fact]
    public async Task A_shard_that_always_fails_is_tried_max_times_then_its_orchestration_is_told_and_the_message_poisoned()
    {
        var client = new RecordingOrchestrationClient();
        await RunAsync(client, async (storage, host) =>
        {
            // a real failure of the real sampler: the run has no plan.json
            var request = new InferenceRequestMessage("run-noplan", "run-noplan-g0000", 3, "plan/shard-0003.json", 1);
            string body = PipelineJson.Serialize(request);
            await SendAsync(storage, body, StorageLayout.InferenceRequestsQueue);
            await Eventually.TrueAsync(async () => (await PoisonAsync(storage, StorageLayout.InferenceRequestsQueue)).Count > 0, "the poison message", limitSeconds: 120);
            await DrainedAsync(storage, StorageLayout.InferenceRequestsQueue);
            Assert.Equal(body, Assert.Single(await PoisonAsync(storage, StorageLayout.InferenceRequestsQueue)));
            var (instance, eventName, payload) = Assert.Single(client.Events);
            Assert.Equal(("run-noplan-g0000", RunActivityNames.InferenceDoneEvent(3)), (instance, eventName));
            var done = Assert.IsType<InferenceDone>(payload);
            Assert.Equal((3, 0, 0), (done.ShardIndex, done.Succeeded, done.Failed));
            Assert.Contains($"failed {host.MaxDequeueCount} times", done.Error);
            Assert.Contains("plan.json is missing", done.Error);
        });
    }
}

/// <summary>The trigger cases on the local host (<c>pipeline serve</c>'s listeners).</summary>
public sealed class LocalHostTriggerTests(AzuriteFixture azurite) : TriggerCases(azurite), IClassFixture<AzuriteFixture>
{
    protected override Task<ITriggerHost> StartHostAsync(PipelineStorage storage, RecordingOrchestrationClient client) => LocalTriggerHost.StartAsync(storage, client);
}

/// <summary>The trigger cases on the Functions app's handlers.</summary>
public sealed class AzureHostTriggerTests(AzuriteFixture azurite) : TriggerCases(azurite), IClassFixture<AzuriteFixture>
{
    protected override Task<ITriggerHost> StartHostAsync(PipelineStorage storage, RecordingOrchestrationClient client) => AzureTriggerHost.StartAsync(storage, client);

    [Fact]
    public void The_Functions_host_and_the_trigger_core_agree_on_the_number_of_attempts() =>
        Assert.Equal(TriggerRules.DefaultMaxDequeueCount, AzureTriggerHost.ReadHostJsonMaxDequeueCount());
}
