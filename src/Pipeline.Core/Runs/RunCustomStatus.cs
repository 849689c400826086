using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;

namespace Pipeline.Core.Runs;

/// <summary>The stages the run orchestration reports in its custom status (and runs/{id}/status.json's stage).</summary>
public static class RunStages
{
    public const string Plan = "plan";
    /// <summary>Dry run: the estimate instead of generation.</summary>
    public const string Estimate = "estimate";
    /// <summary>The shards' Preprocess, Infer, Compose and Measure.</summary>
    public const string Generate = "generate";
    public const string Aggregate = "aggregate";
    public const string Report = "report";
}

/// <summary>The steps of one shard, named in the reason when a shard fails (e.g. "Infer: no result from the GPU worker").</summary>
public static class ShardSteps
{
    public const string Preprocess = RunActivityNames.Preprocess;
    public const string Infer = "Infer";
    public const string Compose = RunActivityNames.Compose;
    public const string Measure = RunActivityNames.Measure;
}

/// <summary>
/// The run orchestration's custom status: the stage and, after planning, the item counters. Serialised as
/// {"stage": "generate", "progress": {"total": 24, "completed": 8, "failed": 0}}; the hosts read it back with
/// <see cref="TryRead"/> to fill the instance's stage and progress.
/// </summary>
public sealed record RunCustomStatus(string Stage, RunProgress? Progress = null)
{
    /// <summary>The custom status as the hosts stored it (JSON), or null when it is not a run status.</summary>
    public static RunCustomStatus? TryRead(JsonElement? customStatus)
    {
        if (customStatus is not { ValueKind: JsonValueKind.Object } status) return null;
        try { return status.Deserialize<RunCustomStatus>(OrchestrationJson.Options); }
        catch (JsonException) { return null; }
    }
}
