using System.Text.Json;
using Pipeline.Core.Contracts;

namespace Pipeline.Core.Orchestration;

/// <summary>An orchestration instance as the client sees it (Durable Functions' OrchestrationMetadata).</summary>
public sealed record OrchestrationInstance
{
    public required string InstanceId { get; init; }
    public required string Name { get; init; }
    /// <summary>Pending, Running, Completed, Failed or Cancelled.</summary>
    public required RunState State { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>The parent's instance id when this is a sub-orchestration.</summary>
    public string? ParentInstanceId { get; init; }
    public JsonElement? Input { get; init; }
    /// <summary>The orchestrator's return value (Completed only).</summary>
    public JsonElement? Output { get; init; }
    public JsonElement? CustomStatus { get; init; }
    public RunProgress? Progress { get; init; }
    /// <summary>Why the instance failed or was cancelled.</summary>
    public string? Error { get; init; }

    public bool IsTerminal => State is RunState.Completed or RunState.CompletedWithFailures or RunState.Failed or RunState.Cancelled or RunState.Rejected;

    /// <summary>The output deserialised; throws <see cref="OrchestrationFailedException"/> when the instance did not complete
    /// (a run that completed with some failed items did complete: its output is the summary that counts them).</summary>
    public T? ReadOutput<T>()
    {
        if (State is not (RunState.Completed or RunState.CompletedWithFailures))
            throw new OrchestrationFailedException(Name, InstanceId, Error ?? $"instance is {State}, not Completed");
        return Output is { } o ? o.Deserialize<T>(OrchestrationJson.Options) : default;
    }
}
