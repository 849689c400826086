using DurableTask.Core.History;
using Pipeline.Host.TaskHub;

namespace Pipeline.EndToEnd.Tests;

/// <summary>The crash tests' no-duplicate-work check of one instance's history (<see cref="CrashRuns.HistoryProblem"/>):
/// it must fail on work done twice or delivered to the wrong call, and pass what at-least-once delivery legitimately
/// leaves (an answer repeated under its own id, a stale result the engine kept as a GenericEvent).</summary>
public sealed class HistoryProblemTests
{
    private static HistoryRecord Call(int id, string name) => new(EventType.TaskScheduled, id, null, name);
    private static HistoryRecord Answer(int id) => new(EventType.TaskCompleted, -1, id, null, Result: "{}");
    private static HistoryRecord Failure(int id) => new(EventType.TaskFailed, -1, id, null);
    private static HistoryRecord Timer(int id) => new(EventType.TimerCreated, id, null, null);
    private static readonly HistoryRecord Started = new(EventType.ExecutionStarted, -1, null, "AugmentShardGroup");
    private static readonly HistoryRecord Completed = new(EventType.ExecutionCompleted, 5, null, null);

    [Fact]
    public void A_history_with_each_call_answered_once_passes()
    {
        Assert.Null(CrashRuns.HistoryProblem([Started, Call(0, "Preprocess"), Answer(0), Call(1, "RequestInference"), Answer(1), Timer(2),
            new(EventType.EventRaised, -1, null, "inference-done-00000"), Call(3, "Compose"), Failure(3), Completed]));
    }

    [Fact]
    public void An_answer_repeated_under_its_own_id_and_a_dropped_stale_result_pass()
    {
        Assert.Null(CrashRuns.HistoryProblem([Started, Call(0, "Preprocess"), Answer(0), Answer(0), Call(1, "Compose"),
            new(EventType.GenericEvent, -1, null, null, "stale activity result for event 1 dropped: ..."), Answer(1), Completed]));
    }

    [Fact]
    public void A_call_made_twice_fails()
    {
        var problem = CrashRuns.HistoryProblem([Started, Call(0, "Preprocess"), Answer(0), Call(0, "Preprocess"), Answer(0), Completed]);
        Assert.Contains("calls made twice [0]", problem);
    }

    [Fact]
    public void An_answer_under_a_timers_id_fails()
    {
        // the shape of the driving crash test's failure: an activity result under the id of a (cancelled) timer
        var problem = CrashRuns.HistoryProblem([Started, Call(0, "Preprocess"), Answer(0), Call(1, "RequestInference"), Answer(1), Timer(2),
            new(EventType.EventRaised, -1, null, "inference-done-00001"), Answer(2), Call(3, "Compose"), Answer(3), Completed]);
        Assert.Contains("answers to calls not made [2]", problem);
        Assert.Contains("TaskCompleted->2", problem);
    }

    [Fact]
    public void A_call_without_an_answer_fails()
    {
        var problem = CrashRuns.HistoryProblem([Started, Call(0, "Preprocess"), Answer(0), Call(1, "Compose"), Completed]);
        Assert.Contains("calls without an answer [1]", problem);
    }
}
