namespace Pipeline.Host.Runs;

/// <summary>Tuning of the GPU-worker role.</summary>
public sealed class InferenceWorkerOptions
{
    public const string SectionName = "Pipeline:InferenceWorker";

    /// <summary>Whether this process consumes "inference-requests" (the GPU role; on by default in the local host).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>How long a received shard stays invisible to other workers; renewed every
    /// <see cref="VisibilityRenewInterval"/> while the shard is sampled, so a shard of any length is never redelivered
    /// while its worker lives, and one whose worker died is picked up by another worker within this time.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(20);
    /// <summary>How often the visibility of the shard being sampled is extended (well under <see cref="VisibilityTimeout"/>).</summary>
    public TimeSpan VisibilityRenewInterval { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Dequeues after which a message goes to inference-requests-poison (as Functions' maxDequeueCount).</summary>
    public int MaxDequeueCount { get; set; } = 5;
    /// <summary>Items per denoiser batch (CFG doubles the rows); items of different shards share batches.</summary>
    public int MaxBatchSize { get; set; } = 8;
    /// <summary>Messages (shards) received at once and sampled in one pass, their items batched together (1-32, the
    /// queue's limit). More fills batches when shards are smaller than <see cref="MaxBatchSize"/>; each message stays
    /// invisible to other workers until its pass ends.</summary>
    public int MaxShardsPerPass { get; set; } = 4;
}
