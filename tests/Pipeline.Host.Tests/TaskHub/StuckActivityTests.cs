using System.Collections.Concurrent;
using DurableTask.Core;
using DurableTask.Core.History;
using Pipeline.Core.Contracts;
using Pipeline.Host.Orchestration;
using Pipeline.Host.TaskHub;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>
/// An activity whose result could not be sent and whose message could not be handed back (storage down for both)
/// must run again once its message is visible again (<see cref="StuckActivities"/>); the provider alone keeps the
/// message marked as in flight and refuses it for the life of the process.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class StuckActivityTests(EngineFixture fixture)
{
    /// <summary>Fails, for the first "Echo" work item, the sending of its result and then its hand-back, without
    /// reaching the provider: what storage down at both moments does (the provider's calls throw before it forgets the
    /// message).</summary>
    private sealed class FailFirstHandBack(IOrchestrationService inner) : OrchestrationServiceDecorator(inner)
    {
        private string? _failed;
        public int AbandonsFailed { get; private set; }

        public override Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
        {
            if (workItem.TaskMessage.Event is TaskScheduledEvent { Name: "Echo" } && Interlocked.CompareExchange(ref _failed, workItem.Id, null) is null)
                throw new IOException("injected: storage down while sending the activity's result");
            return base.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
        }

        public override Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
        {
            if (workItem.Id == _failed && AbandonsFailed == 0)
            {
                AbandonsFailed++;
                throw new IOException("injected: storage down while handing the activity's message back");
            }
            return base.AbandonTaskActivityWorkItemAsync(workItem);
        }
    }

    [Fact]
    public async Task An_activity_whose_result_and_hand_back_both_failed_runs_again_when_its_message_is_visible_again()
    {
        var runs = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var registry = new OrchestrationRegistry()
            .AddActivity("Echo", (input, _) =>
            {
                runs.AddOrUpdate("Echo", 1, (_, n) => n + 1);
                return Task.FromResult<object?>(input.GetString());
            })
            .AddOrchestrator("OneCall", async ctx => (object?)await ctx.CallActivityAsync<string>("Echo", "x"));
        FailFirstHandBack? fault = null;
        var options = fixture.NewOptions();
        await using var engine = new TaskHubEngine(options);
        await engine.StartWorkerAsync(registry, decorateProvider: provider => fault = new FailFirstHandBack(provider));
        const string id = "stuck-activity";
        Assert.True(await engine.Client.ScheduleNewAsync("OneCall", id, null));

        // the message is visible again WorkItemQueueVisibilityTimeout (15 s) after its last renewal
        using var cts = new CancellationTokenSource(options.WorkItemQueueVisibilityTimeout * 4);
        Core.Orchestration.OrchestrationInstance final;
        try { final = await engine.Client.WaitForCompletionAsync(id, cts.Token); }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the instance did not complete within {options.WorkItemQueueVisibilityTimeout * 4} (Echo ran {runs.GetValueOrDefault("Echo")} time(s), " +
                        $"hand-backs failed {fault!.AbandonsFailed}): the message stayed marked as in flight");
            throw;
        }
        Assert.Equal(1, fault!.AbandonsFailed);
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal("x", final.ReadOutput<string>());
        Assert.Equal(2, runs["Echo"]); // the first run's result was never sent
    }
}
