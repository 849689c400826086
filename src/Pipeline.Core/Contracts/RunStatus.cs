using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Core.Contracts;

/// <summary>Lifecycle of a run (also the local engine's instance states).</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<RunState>))]
public enum RunState
{
    /// <summary>Accepted, not started.</summary>
    Pending,
    Running,
    Completed,
    /// <summary>Completed, but some items failed (listed in the report).</summary>
    CompletedWithFailures,
    /// <summary>Every item failed, or the orchestration itself failed.</summary>
    Failed,
    Cancelled,
    /// <summary>The request was invalid (malformed JSON, failed validation, missing dataset or model); nothing ran.</summary>
    Rejected,
}

/// <summary>Item counters of a run.</summary>
public sealed record RunProgress(int Total, int Completed, int Failed);

/// <summary>The document at runs/{runId}/status.json.</summary>
public sealed record RunStatus
{
    public required string RunId { get; init; }
    public required RunState State { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Current stage as the run orchestration reports it (Pipeline.Core.Runs.RunStages: plan, estimate,
    /// generate, aggregate, report).</summary>
    public string? Stage { get; init; }
    public RunProgress? Progress { get; init; }
    public JsonElement? CustomStatus { get; init; }
    /// <summary>Why the run failed or was rejected.</summary>
    public string? Error { get; init; }
    /// <summary>Every problem found when the request was rejected.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}
