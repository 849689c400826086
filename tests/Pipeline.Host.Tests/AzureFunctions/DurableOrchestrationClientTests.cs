using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host.AzureFunctions;

namespace Pipeline.Host.Tests.AzureFunctions;

/// <summary>The project's IOrchestrationClient over Durable's client: the port's idempotence, event and cancel rules.</summary>
public class DurableOrchestrationClientTests
{
    private sealed class FakeClient : IDurableClientOperations
    {
        public Dictionary<string, DurableInstanceState> Instances { get; } = [];
        public List<string> Calls { get; } = [];

        public Task<DurableInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken)
            => Task.FromResult(Instances.GetValueOrDefault(instanceId));

        public Task<bool> ScheduleAsync(string orchestratorName, string instanceId, object? input, CancellationToken cancellationToken)
        {
            Calls.Add($"schedule {orchestratorName} {instanceId}");
            if (Instances.ContainsKey(instanceId)) return Task.FromResult(false);
            Instances[instanceId] = State(instanceId, "Pending", input: JsonSerializer.Serialize(input, OrchestrationJson.Options));
            return Task.FromResult(true);
        }

        public Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken)
        {
            Calls.Add($"raise {instanceId} {eventName}");
            return Task.CompletedTask;
        }

        public Task TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken)
        {
            Calls.Add($"terminate {instanceId}");
            Instances[instanceId] = State(instanceId, "Terminated", output: JsonSerializer.Serialize(reason));
            return Task.CompletedTask;
        }
    }

    private static DurableInstanceState State(string id, string status, string? input = null, string? output = null, string? custom = null, string? failure = null)
        => new(id, "AugmentationRun", status, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddMinutes(1), input, output, custom, failure);

    [Fact]
    public async Task ScheduleIsIdempotentPerInstanceId()
    {
        var fake = new FakeClient();
        var client = new DurableOrchestrationClient(fake);
        Assert.True(await client.ScheduleNewAsync("AugmentationRun", "run-1", new { seed = 1 }));
        Assert.False(await client.ScheduleNewAsync("AugmentationRun", "run-1", new { seed = 1 }));
        Assert.Single(fake.Calls); // the repeat never reached Durable's scheduler
        fake.Instances["run-2"] = State("run-2", "Completed");
        Assert.False(await client.ScheduleNewAsync("AugmentationRun", "run-2", null));
    }

    [Fact]
    public async Task EventsGoToRunningInstancesOnly()
    {
        var fake = new FakeClient();
        var client = new DurableOrchestrationClient(fake);
        await Assert.ThrowsAsync<OrchestrationNotFoundException>(() => client.RaiseEventAsync("run-x", "go", 1));
        fake.Instances["run-1"] = State("run-1", "Running");
        fake.Instances["run-2"] = State("run-2", "Completed");
        await client.RaiseEventAsync("run-1", "go", 1);
        await client.RaiseEventAsync("run-2", "go", 1); // dropped, as the local engine does
        Assert.Equal(new[] { "raise run-1 go" }, fake.Calls);
    }

    [Fact]
    public async Task CancelTerminatesARunningInstanceAndLeavesAFinishedOneAlone()
    {
        var fake = new FakeClient();
        var client = new DurableOrchestrationClient(fake);
        await Assert.ThrowsAsync<OrchestrationNotFoundException>(() => client.CancelAsync("run-x", "why"));
        fake.Instances["run-1"] = State("run-1", "Running");
        fake.Instances["run-2"] = State("run-2", "Failed", failure: "boom");
        await client.CancelAsync("run-1", "user asked");
        await client.CancelAsync("run-2", "user asked");
        Assert.Equal(new[] { "terminate run-1" }, fake.Calls);
        var cancelled = await client.GetInstanceAsync("run-1");
        Assert.Equal(RunState.Cancelled, cancelled!.State);
        Assert.Equal("user asked", cancelled.Error);
        Assert.Equal("boom", (await client.GetInstanceAsync("run-2"))!.Error);
    }

    [Theory]
    [InlineData("Pending", RunState.Pending)]
    [InlineData("Running", RunState.Running)]
    [InlineData("ContinuedAsNew", RunState.Running)]
    [InlineData("Suspended", RunState.Running)]
    [InlineData("Completed", RunState.Completed)]
    [InlineData("Failed", RunState.Failed)]
    [InlineData("Terminated", RunState.Cancelled)]
    [InlineData("Canceled", RunState.Cancelled)]
    public void RuntimeStatusesMapOntoRunStates(string status, RunState expected)
    {
        Assert.Equal(expected, DurableStatusMapping.ToRunState(status));
    }

    [Fact]
    public void AnUnknownRuntimeStatusIsAnError()
    {
        Assert.Contains("Exploded", Assert.Throws<ArgumentException>(() => DurableStatusMapping.ToRunState("Exploded")).Message);
    }

    [Fact]
    public async Task InstancesCarryOutputCustomStatusAndProgress()
    {
        var fake = new FakeClient();
        fake.Instances["run-1"] = State("run-1", "Completed", input: """{"seed":3}""", output: "17",
            custom: """{"stage":"report","progress":{"total":10,"completed":9,"failed":1}}""");
        var client = new DurableOrchestrationClient(fake);
        var instance = await client.WaitForCompletionAsync("run-1");
        Assert.True(instance.IsTerminal);
        Assert.Equal(17, instance.ReadOutput<int>());
        Assert.Equal(new RunProgress(10, 9, 1), instance.Progress);
        Assert.Equal("report", instance.CustomStatus!.Value.GetProperty("stage").GetString());
        Assert.Equal(3, instance.Input!.Value.GetProperty("seed").GetInt32());
        Assert.Null(await client.GetInstanceAsync("run-none"));
    }
}
