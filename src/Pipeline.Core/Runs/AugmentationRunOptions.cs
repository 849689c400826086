using Pipeline.Core.Orchestration;

namespace Pipeline.Core.Runs;

/// <summary>
/// Tuning of the run orchestration (configuration section Pipeline:Run, bound through IOptions by the host's
/// registration; never read from the environment inside the orchestrator).
/// </summary>
public sealed class AugmentationRunOptions
{
    public const string SectionName = "Pipeline:Run";

    /// <summary>Shards per AugmentShardGroup sub-orchestration: bounds the parent's and each child's history.</summary>
    public int ShardsPerGroup { get; set; } = 16;
    /// <summary>How long to wait for the GPU worker before re-enqueueing a shard.</summary>
    public TimeSpan InferenceTimeout { get; set; } = TimeSpan.FromMinutes(30);
    /// <summary>How many times a shard is enqueued before its items are failed.</summary>
    public int InferenceAttempts { get; set; } = 3;
    /// <summary>Retry policy of every activity call of the run (Pipeline:Run:ActivityRetry).</summary>
    public RetryOptions ActivityRetry { get; set; } = new();
}

/// <summary>A bindable <see cref="RetryPolicy"/> (Durable Functions' RetryOptions).</summary>
public sealed class RetryOptions
{
    public int MaxAttempts { get; set; } = 3;
    public TimeSpan FirstRetryInterval { get; set; } = TimeSpan.FromSeconds(2);
    public double BackoffCoefficient { get; set; } = 2.0;
    public TimeSpan MaxRetryInterval { get; set; } = TimeSpan.FromSeconds(30);

    public RetryPolicy ToPolicy() => new(MaxAttempts, FirstRetryInterval, BackoffCoefficient, MaxRetryInterval);
}
