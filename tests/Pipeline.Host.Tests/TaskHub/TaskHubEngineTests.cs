using System.Text.Json;
using DurableTask.Core.History;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.EngineHarness;
using Pipeline.Host.Orchestration;
using Pipeline.Host.TaskHub;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>The engine acceptance tests on the Durable Task Framework (Azure Storage provider on Azurite), in process,
/// on the fixture's shared worker.</summary>
[Collection(EngineCollection.Name)]
public sealed class TaskHubEngineTests(EngineFixture azurite)
{
    private TaskHubEngine Engine => azurite.Engine;

    private async Task<RunStatus?> ReadStatusAsync(string instanceId)
    {
        var blob = new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, Engine.Options.StatusContainerName).GetBlobClient($"{instanceId}/status.json");
        if (!await blob.ExistsAsync()) return null;
        return (await blob.DownloadContentAsync()).Value.Content.ToObjectFromJson<RunStatus>(PipelineJson.Options);
    }

    [Fact]
    public async Task A_fan_out_of_200_activities_completes_with_every_output_once_and_its_status_projected()
    {
        const string id = "toy-200";
        Assert.True(await Engine.Client.ScheduleNewAsync(nameof(ToyFanOut), id, new ToyInput(200, 0)));
        var final = await Engine.WaitAsync(id);
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal(200, final.ReadOutput<int>());
        for (int i = 0; i < 200; i += 23) Assert.True(await azurite.Toy.GetBlobClient(WriteItem.OutputBlob(i)).ExistsAsync());
        Assert.Equal(200, await azurite.Toy.CountAsync("out/"));

        // every scheduled call has its outcome in the framework's history (a message redelivered after its visibility
        // timeout on a loaded machine may add a duplicate, which the framework records and ignores)
        var history = await Engine.Client.GetHistoryAsync(id);
        var scheduled = history.Where(h => h.Type == EventType.TaskScheduled).Select(h => h.EventId).ToList();
        var completed = history.Where(h => h.Type == EventType.TaskCompleted).Select(h => h.TaskScheduledId!.Value).ToHashSet();
        Assert.Equal(201, scheduled.Count);
        Assert.Equal(scheduled.Count, scheduled.Distinct().Count());
        Assert.True(completed.SetEquals(scheduled), "every call completed, and only scheduled calls");

        // runs/{id}/status.json follows the framework's state (written after the commit, so poll briefly)
        await EngineTestExtensions.EventuallyAsync(async () => (await ReadStatusAsync(id))?.State == RunState.Completed, "status.json to say Completed");
        var status = (await ReadStatusAsync(id))!;
        Assert.Equal("summary", status.Stage);
        Assert.Equal(id, status.RunId);
    }

    [Fact]
    public async Task An_activity_that_always_fails_fails_the_instance_after_its_retry_policy_with_its_message()
    {
        const string id = "always-failing";
        Assert.True(await Engine.Client.ScheduleNewAsync("AlwaysFailing", id, null));
        var final = await Engine.WaitAsync(id);
        Assert.Equal(RunState.Failed, final.State);
        Assert.Contains("Activity 'Counted' failed after 3 attempts: InvalidOperationException: always fails (always-failing, attempt 3)", final.Error);
        Assert.Equal(3, azurite.Orchestrations.Attempts[id]);
        Assert.Throws<OrchestrationFailedException>(() => final.ReadOutput<int>());
        await EngineTestExtensions.EventuallyAsync(async () => (await ReadStatusAsync(id))?.State == RunState.Failed, "status.json to say Failed");
    }

    [Fact]
    public async Task Events_raised_before_the_wait_count_and_are_taken_in_order()
    {
        const string id = "event-before-wait";
        Assert.True(await Engine.Client.ScheduleNewAsync("EventAfterWork", id, null));
        await Engine.Client.RaiseEventAsync(id, "go", "first");
        await Engine.Client.RaiseEventAsync(id, "go", "second");
        await EngineTestExtensions.EventuallyAsync(async () => (await Engine.Client.GetHistoryAsync(id)).Count(h => h.Type == EventType.EventRaised) == 2,
            "both events in the history");
        azurite.Orchestrations.Gate(id).SetResult();
        var final = await Engine.WaitAsync(id);
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal("first,second", final.ReadOutput<string>());
        // the events arrived while the activity ran, before either wait started
        var history = await Engine.Client.GetHistoryAsync(id);
        int firstRaised = history.ToList().FindIndex(h => h.Type == EventType.EventRaised);
        int activityDone = history.ToList().FindIndex(h => h.Type == EventType.TaskCompleted);
        Assert.True(firstRaised >= 0 && firstRaised < activityDone, "the events were recorded before the activity completed");
    }

    [Fact]
    public async Task Cancelling_terminates_the_instance_and_its_sub_orchestration_and_projects_the_reason()
    {
        const string id = "cancel-me";
        Assert.True(await Engine.Client.ScheduleNewAsync("WaitForever", id, null));
        await EngineTestExtensions.EventuallyAsync(async () => (await Engine.Client.GetInstanceAsync(id + "-child"))?.State == RunState.Running, "the child to run");
        await Engine.Client.CancelAsync(id, "stopped by the test");
        var final = await Engine.WaitAsync(id);
        Assert.Equal(RunState.Cancelled, final.State);
        Assert.Equal("stopped by the test", final.Error);
        var child = await Engine.WaitAsync(id + "-child");
        Assert.Equal(RunState.Cancelled, child.State);
        Assert.Equal(id, child.ParentInstanceId);
        Assert.Contains("parent 'cancel-me' was cancelled", child.Error);
        await EngineTestExtensions.EventuallyAsync(async () => (await ReadStatusAsync(id))?.State == RunState.Cancelled, "status.json to say Cancelled");
        // a sub-orchestration has no status.json of its own (its state is in the framework's tables)
        Assert.Null(await ReadStatusAsync(id + "-child"));
        // cancelling a finished instance leaves it as it is; an event to it is dropped
        await Engine.Client.CancelAsync(id, "again");
        await Engine.Client.RaiseEventAsync(id, "never", 1);
        Assert.Equal("stopped by the test", (await Engine.Client.GetInstanceAsync(id))!.Error);
    }

    [Fact]
    public async Task The_client_schedules_once_per_id_and_refuses_events_to_unknown_instances()
    {
        const string id = "client-semantics";
        Assert.True(await Engine.Client.ScheduleNewAsync("GuidsAndTime", id, null));
        Assert.False(await Engine.Client.ScheduleNewAsync("GuidsAndTime", id, null));
        Assert.Null(await Engine.Client.GetInstanceAsync("no-such-instance"));
        await Assert.ThrowsAsync<OrchestrationNotFoundException>(() => Engine.Client.RaiseEventAsync("no-such-instance", "e", 1));
        await Assert.ThrowsAsync<OrchestrationNotFoundException>(() => Engine.Client.CancelAsync("no-such-instance", "x"));
        var final = await Engine.WaitAsync(id);
        Assert.Equal(RunState.Completed, final.State);
        // replay-safe values: the guid and time taken before the timer are the ones recorded in the first execution
        var output = final.ReadOutput<JsonElement>();
        Assert.NotEqual(output.GetProperty("guid").GetGuid(), output.GetProperty("guid2").GetGuid());
        Assert.True(output.GetProperty("time").GetDateTime() <= final.UpdatedAt.UtcDateTime);
    }

    [Fact]
    public async Task A_changed_orchestrator_is_reported_as_nondeterministic_by_the_framework()
    {
        // A worker without extended sessions replays the orchestrator from history at every step, as any worker does
        // after a restart; the replay calls another activity than the history records.
        var options = azurite.NewOptions();
        options.ExtendedSessionsEnabled = false;
        await using var engine = new TaskHubEngine(options);
        await engine.StartWorkerAsync(azurite.Orchestrations.Registry);
        const string id = "nondeterministic";
        Assert.True(await engine.Client.ScheduleNewAsync("Nondeterministic", id, null));
        var final = await engine.WaitAsync(id);
        Assert.Equal(RunState.Failed, final.State);
        Assert.Contains("Non-Deterministic", final.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Sub_orchestrations_run_under_the_ids_the_orchestrator_gives()
    {
        const string id = "parity-ids";
        Assert.True(await Engine.Client.ScheduleNewAsync("ParityToy", id, null));
        var final = await Engine.WaitAsync(id);
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal(RunState.Failed, (await Engine.Client.GetInstanceAsync(id + "-c"))!.State);
        var retry = (await Engine.Client.GetInstanceAsync(id + "-c-retry2"))!;
        Assert.Equal(RunState.Completed, retry.State);
        Assert.Equal(id, retry.ParentInstanceId);
    }
}
