using System.Security.Cryptography;
using System.Text;
using DurableTask.Core;
using DurableTask.Core.History;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// Keeps the result of a call scheduled by an orchestration step that was never committed from completing another call.
/// <para>
/// The storage provider sends a step's messages first and writes its history second. A step whose commit did not
/// happen (the process killed in between, storage down in between) runs again from the last committed history, and
/// it can see other messages than the first time (one more event, or the same messages in another order: the provider
/// orders a batch by insertion time, which has one-second precision, then by a sequence number that counts per
/// sending process). Its calls then get other event ids: the first run sent call 2 = Compose, the second run makes
/// 2 a timer and 3 = Compose, or 2 = another shard's call. The activity the first run sent still runs, and its result
/// names only the event id (TaskScheduledId). The framework completes whatever is open under that id, so the result
/// lands on the wrong call (another shard's call takes it as its own; a cancelled timer's id makes it a result
/// without a call in the history). Found by the driving crash test: a history with an activity result whose id was a
/// timer's.
/// </para>
/// <para>
/// The worker's provider wrapper tags every activity result with a digest of the call it answers (name and input,
/// <see cref="TagResult"/>, carried in the message's execution context, not in the result), and before a step runs,
/// a result whose id is not a call with that digest in the instance's history becomes a <see cref="GenericEvent"/>
/// saying so (<see cref="Neutralize"/>): the framework ignores it, the history keeps the note. A timer firing under an
/// id that is not a timer is neutralized the same way. The call's own result still arrives (the second run sent it);
/// the work of the first run's call was done twice, which at-least-once delivery allows (activities are idempotent).
/// Untagged results (sent by an older worker) pass unchanged.
/// </para>
/// </summary>
public static class StaleResults
{
    /// <summary>The execution-context tag that carries the digest of the call an activity result answers.</summary>
    public const string CallTag = "pipeline.call";

    /// <summary>The digest of an activity call, "{name}:{input}": 8 hex digits of SHA-256 over its name and version, and 16
    /// over its input. The worker keeps calls' inputs in the history (<c>IncludeParameters</c>); a history written
    /// without them is compared by the name part only.</summary>
    public static string Digest(TaskScheduledEvent call) => $"{Hash($"{call.Name}\n{call.Version}", 4)}:{Hash(call.Input ?? "", 8)}";

    private static string Hash(string text, int bytes) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, bytes);

    private static bool Answers(string digest, TaskScheduledEvent call)
    {
        string own = Digest(call);
        return call.Input is null ? digest.Split(':')[0] == own.Split(':')[0] : digest == own;
    }

    /// <summary>Tags <paramref name="response"/> (the activity's TaskCompleted or TaskFailed) with the digest of the
    /// call in <paramref name="request"/> (its TaskScheduled message). Nothing happens when the request carries no
    /// execution context (a message from an older framework).</summary>
    public static void TagResult(TaskMessage request, TaskMessage response)
    {
        if (request.Event is not TaskScheduledEvent call) return;
        if (request.OrchestrationExecutionContext is not { OrchestrationTags: { IsReadOnly: false } tags } context) return;
        // the request's context (the orchestration's tags) is the only writable one: the framework's setter is internal
        tags[CallTag] = Digest(call);
        response.OrchestrationExecutionContext = context;
    }

    /// <summary>Replaces, in <paramref name="messages"/>, every result whose id is not the call it answers in
    /// <paramref name="state"/>'s history by a <see cref="GenericEvent"/>; returns a description of each one replaced.</summary>
    public static IReadOnlyList<string> Neutralize(OrchestrationRuntimeState state, IList<TaskMessage> messages)
    {
        List<string>? replaced = null;
        Dictionary<int, HistoryEvent>? byId = null;
        foreach (var message in messages)
        {
            string? reason = Stale(message, byId ??= Index(state));
            if (reason is null) continue;
            message.Event = new GenericEvent(-1, reason) { Timestamp = message.Event.Timestamp };
            (replaced ??= []).Add(reason);
        }
        return replaced ?? (IReadOnlyList<string>)[];
    }

    private static Dictionary<int, HistoryEvent> Index(OrchestrationRuntimeState state)
    {
        var byId = new Dictionary<int, HistoryEvent>();
        foreach (var e in state.Events)
            if (e.EventId >= 0 && e.EventType is EventType.TaskScheduled or EventType.TimerCreated or EventType.SubOrchestrationInstanceCreated or EventType.EventSent)
                byId[e.EventId] = e;
        return byId;
    }

    private static string? Stale(TaskMessage message, Dictionary<int, HistoryEvent> byId)
    {
        switch (message.Event)
        {
            case TaskCompletedEvent completed:
                return StaleResult(message, completed.TaskScheduledId, byId, "result");
            case TaskFailedEvent failed:
                return StaleResult(message, failed.TaskScheduledId, byId, "failure");
            case TimerFiredEvent fired when byId.TryGetValue(fired.TimerId, out var e) && e is not TimerCreatedEvent:
                return $"stale timer {fired.TimerId} (fire at {fired.FireAt:o}) dropped: event {fired.TimerId} is a {e.EventType} here " +
                       "(a timer of an orchestration step that was not committed)";
            default:
                return null;
        }
    }

    private static string? StaleResult(TaskMessage message, int id, Dictionary<int, HistoryEvent> byId, string what)
    {
        if (message.OrchestrationExecutionContext?.OrchestrationTags?.TryGetValue(CallTag, out string? digest) != true) return null;
        if (!byId.TryGetValue(id, out var e)) return null; // not (yet) in the history: the provider's own ordering check decides
        if (e is TaskScheduledEvent call && Answers(digest!, call)) return null;
        string here = e is TaskScheduledEvent other ? $"call {other.Name} ({Digest(other)})" : $"a {e.EventType}";
        return $"stale activity {what} for event {id} dropped: it answers call {digest}, event {id} is {here} here " +
               "(a call of an orchestration step that was not committed)";
    }
}
