using System.Collections.Concurrent;
using DurableTask.Core;
using DurableTask.Core.History;
using Newtonsoft.Json;
using Pipeline.Core.Contracts;
using Pipeline.Host.Orchestration;
using Pipeline.Host.TaskHub;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>
/// The result of a call made by an orchestration step that was never committed must not complete another call
/// (<see cref="StaleResults"/>). Such a step runs again and can number its calls differently (it sees one more event,
/// or its messages in another order); the first run's activity still runs and answers under the event id it had.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class StaleResultTests(EngineFixture fixture)
{
    private const string Orchestrator = "ThreeCalls";

    /// <summary>After the step that calls Echo("third") commits, sends what the activity of an uncommitted run of that
    /// step would send if that run had given the same event id to Echo("second"): Echo("second")'s result, tagged by
    /// the activity side as the answer to Echo("second"), under the id of Echo("third").</summary>
    private sealed class SendStaleResult(IOrchestrationService inner) : OrchestrationServiceDecorator(inner)
    {
        private int _sent;
        public int Sent => _sent;

        public override async Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState,
            IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages,
            TaskMessage continuedAsNewMessage, OrchestrationState orchestrationState)
        {
            await base.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages,
                timerMessages, continuedAsNewMessage, orchestrationState);
            if (outboundMessages.FirstOrDefault(m => m.Event is TaskScheduledEvent { Input: { } i } && i.Contains("third")) is not { } third) return;
            if (Interlocked.CompareExchange(ref _sent, 1, 0) != 0) return;
            var events = newOrchestrationRuntimeState.Events;
            var second = events.OfType<TaskScheduledEvent>().Single(e => e.Input!.Contains("second"));
            string secondResult = events.OfType<TaskCompletedEvent>().Single(c => c.TaskScheduledId == second.EventId).Result!;
            int id = third.Event.EventId;
            var request = new TaskMessage
            {
                Event = new TaskScheduledEvent(id, second.Name!, second.Version, second.Input),
                OrchestrationInstance = third.OrchestrationInstance,
                OrchestrationExecutionContext = NewExecutionContext(),
            };
            var stale = new TaskMessage { Event = new TaskCompletedEvent(-1, id, secondResult), OrchestrationInstance = third.OrchestrationInstance };
            StaleResults.TagResult(request, stale);
            await ((IOrchestrationServiceClient)Inner).SendTaskOrchestrationMessageAsync(stale);
        }
    }

    [Fact]
    public async Task A_result_of_a_call_from_an_uncommitted_step_does_not_complete_the_call_that_now_has_its_id()
    {
        var runs = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var registry = new OrchestrationRegistry()
            .AddActivity("Echo", async (input, cancellationToken) =>
            {
                string text = input.GetString()!;
                runs.AddOrUpdate(text, 1, (_, n) => n + 1);
                if (text == "third") await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken); // the stale result arrives first
                return (object?)text;
            })
            .AddOrchestrator(Orchestrator, async ctx =>
            {
                await ctx.CallActivityAsync<string>("Echo", "first");
                string second = await ctx.CallActivityAsync<string>("Echo", "second");
                string third = await ctx.CallActivityAsync<string>("Echo", "third");
                return (object?)new[] { second, third };
            });
        SendStaleResult? fault = null;
        await using var engine = new TaskHubEngine(fixture.NewOptions());
        await engine.StartWorkerAsync(registry, decorateProvider: provider => fault = new SendStaleResult(provider));
        const string id = "stale-result";
        Assert.True(await engine.Client.ScheduleNewAsync(Orchestrator, id, null));
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        Core.Orchestration.OrchestrationInstance final;
        try { final = await engine.Client.WaitForCompletionAsync(id, cts.Token); }
        catch (OperationCanceledException)
        {
            var h = await engine.Client.GetHistoryAsync(id);
            Assert.Fail($"not completed in 1 minute ({(await engine.Client.GetInstanceAsync(id))?.State}): stale result sent {fault!.Sent}; history: " +
                string.Join(", ", h.Select(e => $"{e.Type}#{e.EventId}->{e.TaskScheduledId} {e.Name} {e.Input} {e.Result}")));
            throw;
        }

        Assert.Equal(1, fault!.Sent);
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal(["second", "third"], final.ReadOutput<string[]>()!); // without the filter: ["second", "second"]
        var history = await engine.Client.GetHistoryAsync(id);
        int thirdCall = history.Single(h => h.Type == EventType.TaskScheduled && h.Input!.Contains("third")).EventId;
        Assert.Contains("\"third\"", history.Single(h => h.Type == EventType.TaskCompleted && h.TaskScheduledId == thirdCall).Result);
        var dropped = Assert.Single(history, h => h.Type == EventType.GenericEvent);
        Assert.Contains($"stale activity result for event {thirdCall} dropped", dropped.Input);
        Assert.Equal(1, runs["third"]);
    }

    // ---- the filter on its own ----

    private static readonly OrchestrationInstance Instance = new() { InstanceId = "i", ExecutionId = "e" };

    private static TaskScheduledEvent Call(int id, string input) => new(id, "Echo", "", $"[\"{input}\"]");

    private static OrchestrationRuntimeState History(params HistoryEvent[] events) =>
        new([new ExecutionStartedEvent(-1, null) { OrchestrationInstance = Instance, Name = "o", Version = "" }, .. events]);

    /// <summary>An execution context with writable tags, as a TaskScheduled message carries one.</summary>
    private static OrchestrationExecutionContext NewExecutionContext()
    {
        var context = JsonConvert.DeserializeObject<OrchestrationExecutionContext>("{\"OrchestrationTags\":{}}")!;
        Assert.NotNull(context.OrchestrationTags);
        return context;
    }

    /// <summary>The result message the activity side sends for <paramref name="call"/> (tagged), under <paramref name="id"/>.</summary>
    private static TaskMessage ResultOf(TaskScheduledEvent call, int id, bool tagged = true, bool failed = false)
    {
        var response = new TaskMessage
        {
            Event = failed ? new TaskFailedEvent(-1, id, "boom", null, new FailureDetails("X", "boom", null, null, false)) : new TaskCompletedEvent(-1, id, "\"r\""),
            OrchestrationInstance = Instance,
        };
        if (tagged) StaleResults.TagResult(new TaskMessage { Event = call, OrchestrationInstance = Instance, OrchestrationExecutionContext = NewExecutionContext() }, response);
        return response;
    }

    [Fact]
    public void A_result_tagged_with_the_call_under_its_id_passes()
    {
        var call = Call(0, "a");
        var messages = new List<TaskMessage> { ResultOf(call, 0), ResultOf(call, 0, failed: true) };
        Assert.Empty(StaleResults.Neutralize(History(call), messages));
        Assert.IsType<TaskCompletedEvent>(messages[0].Event);
        Assert.IsType<TaskFailedEvent>(messages[1].Event);
    }

    [Fact]
    public void A_result_of_another_call_under_the_id_becomes_a_generic_event()
    {
        var messages = new List<TaskMessage> { ResultOf(Call(3, "b"), 3), ResultOf(Call(3, "b"), 3, failed: true) };
        var replaced = StaleResults.Neutralize(History(Call(0, "a"), Call(3, "c")), messages);
        Assert.Equal(2, replaced.Count);
        Assert.All(messages, m => Assert.Contains("stale activity", Assert.IsType<GenericEvent>(m.Event).Data));
    }

    [Fact]
    public void A_result_under_a_timers_id_and_a_timer_under_a_calls_id_become_generic_events()
    {
        var history = History(Call(0, "a"), new TimerCreatedEvent(1, DateTime.UtcNow));
        var messages = new List<TaskMessage>
        {
            ResultOf(Call(1, "b"), 1),
            new() { Event = new TimerFiredEvent(-1, DateTime.UtcNow) { TimerId = 0 }, OrchestrationInstance = Instance },
            new() { Event = new TimerFiredEvent(-1, DateTime.UtcNow) { TimerId = 1 }, OrchestrationInstance = Instance },
        };
        var replaced = StaleResults.Neutralize(history, messages);
        Assert.Equal(2, replaced.Count);
        Assert.Contains("is a TimerCreated", Assert.IsType<GenericEvent>(messages[0].Event).Data);
        Assert.Contains("stale timer 0", Assert.IsType<GenericEvent>(messages[1].Event).Data);
        Assert.IsType<TimerFiredEvent>(messages[2].Event); // the timer's own firing
    }

    [Fact]
    public void In_a_history_written_without_inputs_the_name_decides()
    {
        var withoutInput = new TaskScheduledEvent(0, "Echo", "", null);
        var messages = new List<TaskMessage> { ResultOf(Call(0, "a"), 0), ResultOf(new TaskScheduledEvent(0, "Other", "", "[\"a\"]"), 0) };
        var replaced = StaleResults.Neutralize(History(withoutInput), messages);
        Assert.Single(replaced);
        Assert.IsType<TaskCompletedEvent>(messages[0].Event);
        Assert.IsType<GenericEvent>(messages[1].Event);
    }

    [Fact]
    public void Untagged_results_and_results_for_ids_not_yet_in_the_history_pass()
    {
        var messages = new List<TaskMessage> { ResultOf(Call(0, "b"), 0, tagged: false), ResultOf(Call(7, "b"), 7) };
        Assert.Empty(StaleResults.Neutralize(History(Call(0, "a")), messages));
        Assert.All(messages, m => Assert.IsType<TaskCompletedEvent>(m.Event));
    }
}
