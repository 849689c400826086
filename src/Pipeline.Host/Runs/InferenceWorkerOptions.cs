namespace Pipeline.Host.Runs;

/// <summary>Tuning of the GPU-worker role.</summary>
public sealed class InferenceWorkerOptions
{
    public const string SectionName = "Pipeline:InferenceWorker";

    /// <summary>Whether this process consumes "inference-requests" (the GPU role; on by default in the local host).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>How long a received shard stays invisible to other workers (longer than a shard takes).</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Dequeues after which a message goes to inference-requests-poison (as Functions' maxDequeueCount).</summary>
    public int MaxDequeueCount { get; set; } = 5;
    /// <summary>Items per denoiser batch (CFG doubles the rows).</summary>
    public int MaxBatchSize { get; set; } = 8;
}
