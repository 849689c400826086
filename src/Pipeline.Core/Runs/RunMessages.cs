using Pipeline.Core.Contracts;

namespace Pipeline.Core.Runs;

/// <summary>Names of the run's activities and orchestrators, shared by both hosts (Functions uses them as function names).</summary>
public static class RunActivityNames
{
    public const string AugmentationRun = "AugmentationRun";
    public const string AugmentShardGroup = "AugmentShardGroup";
    public const string Plan = "Plan";
    public const string Estimate = "Estimate";
    public const string Preprocess = "Preprocess";
    public const string RequestInference = "RequestInference";
    public const string Compose = "Compose";
    public const string Measure = "Measure";
    public const string RecordShardFailure = "RecordShardFailure";
    public const string Aggregate = "Aggregate";
    public const string Report = "Report";

    /// <summary>The external event the GPU worker raises when a shard's samples are written.</summary>
    public static string InferenceDoneEvent(int shardIndex) => $"inference-done-{shardIndex:D5}";
}

/// <summary>Input of the Plan activity: the validated request (run id filled in).</summary>
public sealed record PlanInput(string RunId, AugmentationRequest Request);

/// <summary>What Plan returns to the orchestration: shard references (items stay in blobs), or why it was rejected.</summary>
public sealed record PlanOutcome
{
    public required string RunId { get; init; }
    /// <summary>Problems that make the request impossible (missing dataset or model, impossible per-class target).
    /// Non-empty means the run is rejected and nothing is generated.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
    public int ItemCount { get; init; }
    public IReadOnlyList<ShardRef> Shards { get; init; } = [];
    public IReadOnlyList<string> Shortfalls { get; init; } = [];
}

/// <summary>Input of a shard stage activity (Preprocess, Compose, Measure, RecordShardFailure).</summary>
public sealed record ShardStageInput(string RunId, ShardRef Shard, string? Reason = null);

/// <summary>Counts a stage reports for its shard; the per-item details are in blobs under runs/{id}/.</summary>
public sealed record ShardStageResult(int Index, int Succeeded, int Failed);

/// <summary>Input of RequestInference: enqueue the shard on "inference-requests" (attempt numbers the retries);
/// <see cref="InstanceId"/> is the orchestration instance that waits for the done event.</summary>
public sealed record InferenceRequestInput(string RunId, string InstanceId, ShardRef Shard, int Attempt);

/// <summary>The message on the "inference-requests" queue that the GPU worker role consumes.</summary>
public sealed record InferenceRequestMessage(string RunId, string InstanceId, int ShardIndex, string ShardBlob, int Attempt);

/// <summary>Payload of the inference-done event raised by the GPU worker.</summary>
public sealed record InferenceDone(int ShardIndex, int Succeeded, int Failed, string? Error = null);

/// <summary>Input of the AugmentShardGroup sub-orchestration: a bounded group of shards (so no history grows with the dataset).</summary>
public sealed record ShardGroupInput(string RunId, IReadOnlyList<ShardRef> Shards, TimeSpan InferenceTimeout, int InferenceAttempts);

/// <summary>What a shard group returns: per-shard final counts.</summary>
public sealed record ShardGroupResult(IReadOnlyList<ShardStageResult> Shards);

/// <summary>Input of Aggregate and Report.</summary>
public sealed record RunStageInput(string RunId, int ShardCount);

/// <summary>What Aggregate returns.</summary>
public sealed record AggregateOutcome(int Succeeded, int Flagged, int Dropped, int Failed);

/// <summary>What Report returns: the blob paths of the run's outputs.</summary>
public sealed record ReportOutcome(string ReportJson, string ReportHtml, string Annotations);

/// <summary>What Estimate returns for a dry run.</summary>
public sealed record EstimateOutcome(int Items, long DenoiserCalls, double SecondsPerDenoiserCall, double EstimatedSeconds, string EstimateBlob);

/// <summary>
/// The output of the AugmentationRun orchestration; the local engine and the Functions adapter map <see cref="State"/>
/// onto runs/{id}/status.json.
/// </summary>
public sealed record RunSummary
{
    public required string RunId { get; init; }
    public required RunState State { get; init; }
    public int Planned { get; init; }
    public int Succeeded { get; init; }
    public int Flagged { get; init; }
    public int Dropped { get; init; }
    public int Failed { get; init; }
    public IReadOnlyList<string> Problems { get; init; } = [];
    public ReportOutcome? Report { get; init; }
    public EstimateOutcome? Estimate { get; init; }
}
