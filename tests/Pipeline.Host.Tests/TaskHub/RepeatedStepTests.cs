using Azure.Storage.Queues;
using DurableTask.Core;
using DurableTask.Core.History;
using Pipeline.Core.Contracts;
using Pipeline.EngineHarness;
using Pipeline.Host.Orchestration;
using Pipeline.Host.TaskHub;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>
/// A parent's step whose commit fails after its messages were sent (storage down before the history write, or the
/// process killed in between) runs again and sends its sub-orchestration's start a second time. The child must run
/// once: the repeated start carries the same execution id (<see cref="SubOrchestrationExecutionIds"/>) and is
/// dropped. With the framework's random ids the provider took it for a new generation, overwrote the child's history
/// and ran every activity of the child again (the failure the fault-injection tests found).
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class RepeatedStepTests(EngineFixture fixture)
{
    /// <summary>Fails the first commit of a step that starts a sub-orchestration the way a storage outage does
    /// between the provider's two writes: the step's messages are sent, its history is not written.</summary>
    private sealed class FailFirstChildStart(IOrchestrationService inner) : OrchestrationServiceDecorator(inner)
    {
        private int _failures;
        public int Failures => _failures;

        public override async Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState,
            IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages,
            TaskMessage continuedAsNewMessage, OrchestrationState orchestrationState)
        {
            if (orchestratorMessages.Any(m => m.Event is ExecutionStartedEvent { ParentInstance: not null }) && Interlocked.CompareExchange(ref _failures, 1, 0) == 0)
            {
                await ((IOrchestrationServiceClient)Inner).SendTaskOrchestrationMessageBatchAsync(orchestratorMessages.ToArray());
                throw new IOException("injected: the step's messages were sent, then storage failed before its history was written");
            }
            await base.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages,
                timerMessages, continuedAsNewMessage, orchestrationState);
        }
    }

    [Fact]
    public async Task A_parent_step_that_runs_again_after_a_failed_commit_starts_its_sub_orchestration_once()
    {
        const int items = 10;
        var options = fixture.NewOptions();
        var toy = fixture.NewContainer();
        var registry = new OrchestrationRegistry().Add(new ToyFanOut()).Add(new ToyParent()).Add(new WriteItem(toy)).Add(new Summarize(toy));
        FailFirstChildStart? fault = null;
        await using var engine = new TaskHubEngine(options);
        await engine.StartWorkerAsync(registry, decorateProvider: provider => fault = new FailFirstChildStart(provider));
        const string parent = "repeated-step";
        Assert.True(await engine.Client.ScheduleNewAsync(nameof(ToyParent), parent, new ToyParentInput(1, items, 0)));

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var final = await engine.Client.WaitForCompletionAsync(parent, cts.Token);
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal(items, final.ReadOutput<int>());
        Assert.Equal(1, fault!.Failures); // the fault happened, so the parent's step ran twice

        // wait until the hub is idle: a second start of the child, had it been taken for a new generation, would by
        // then have run its activities again
        var queues = new QueueServiceClient(options.ConnectionString);
        string hub = options.TaskHubName!.ToLowerInvariant();
        var names = Enumerable.Range(0, options.PartitionCount).Select(p => $"{hub}-control-{p:D2}").Append($"{hub}-workitems").ToList();
        var idleBy = DateTime.UtcNow.AddSeconds(45);
        while (true)
        {
            int pending = 0;
            foreach (var name in names) pending += (await queues.GetQueueClient(name).GetPropertiesAsync(cts.Token)).Value.ApproximateMessagesCount;
            if (pending == 0) break;
            if (DateTime.UtcNow > idleBy)
            {
                var left = new List<string>();
                foreach (var name in names)
                    left.Add($"{name}: {(await queues.GetQueueClient(name).GetPropertiesAsync(cts.Token)).Value.ApproximateMessagesCount} messages");
                await engine.StopWorkerAsync(); // hands back what it holds, so it can be peeked
                await Task.Delay(TimeSpan.FromSeconds(20));
                foreach (var name in names)
                    foreach (var m in (await queues.GetQueueClient(name).PeekMessagesAsync(32, cts.Token)).Value)
                        left.Add($"{name}: dequeued {m.DequeueCount}x: {m.Body}");
                Assert.Fail($"the hub still holds {pending} messages 45 s after the run completed:\n{string.Join("\n", left)}");
            }
            await Task.Delay(200, cts.Token);
        }

        string child = $"{parent}-c0";
        var executions = await engine.Service.GetOrchestrationStateAsync(child, allExecutions: true);
        var childState = Assert.Single(executions);
        Assert.Equal(OrchestrationStatus.Completed, childState.OrchestrationStatus);
        // every activity of the child ran once (a second generation runs them all again)
        for (int item = 0; item < items; item++)
            Assert.Equal(1, await toy.CountAsync(WriteItem.MarkerPrefix(item)));
        var history = await engine.Client.GetHistoryAsync(child);
        Assert.Single(history, h => h.Type == EventType.ExecutionStarted);
        Assert.Equal(Enumerable.Range(0, items), (await HarnessProcess.CommittedItemsAsync(engine.Client, child)).Order());
        // its execution id is the one derived from the parent's call
        var parentState = Assert.Single(await engine.Service.GetOrchestrationStateAsync(parent, allExecutions: false));
        int call = (await engine.Client.GetHistoryAsync(parent)).Single(h => h.Type == EventType.SubOrchestrationInstanceCreated).EventId;
        Assert.Equal(SubOrchestrationExecutionIds.For(parent, parentState.OrchestrationInstance.ExecutionId, call), childState.OrchestrationInstance.ExecutionId);
    }
}
