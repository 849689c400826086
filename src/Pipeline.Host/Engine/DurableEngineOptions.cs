using Pipeline.Core.Orchestration;

namespace Pipeline.Host.Engine;

/// <summary>Settings of the local durable engine.</summary>
public sealed class DurableEngineOptions
{
    /// <summary>Storage connection string (AzureWebJobsStorage; "UseDevelopmentStorage=true" for a default Azurite).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Whether the hosted worker runs instances in this process (false: a process that only submits, signals
    /// and watches through <see cref="Pipeline.Core.Orchestration.IOrchestrationClient"/>).</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>Container holding the engine's instance records, checkpoint logs, event inboxes and active set.</summary>
    public string ContainerName { get; set; } = "engine";

    /// <summary>Container of the run folders; the status of instance {id} is written to {StatusContainerName}/{id}/status.json.</summary>
    public string StatusContainerName { get; set; } = "runs";

    /// <summary>How many activities of one name run at once when <see cref="ActivityConcurrency"/> names no limit.</summary>
    public int DefaultActivityConcurrency { get; set; } = 16;

    /// <summary>Per-activity-name concurrency limits (e.g. one GPU inference at a time), shared by all instances of this engine.</summary>
    public Dictionary<string, int> ActivityConcurrency { get; } = new(StringComparer.Ordinal);

    /// <summary>Retry policy of activity calls that pass none.</summary>
    public RetryPolicy DefaultRetry { get; set; } = RetryPolicy.None;

    /// <summary>Instances this engine runs at once (parents waiting on children count, so keep it well above the fan-out depth).</summary>
    public int MaxConcurrentInstances { get; set; } = 256;

    /// <summary>How often the worker looks for instances scheduled by other processes, and a running instance for
    /// cancel requests and events raised by other processes (in-process ones are seen at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Lease on an instance while this engine runs it (15-60 s, a storage rule). A lease held by a process that
    /// no longer exists on this machine is broken at once; one held elsewhere is waited out.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Least time between two progress writes of runs/{id}/status.json (state changes are written at once).</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest checkpoint append (one storage call; records queued meanwhile go into the next one).</summary>
    public int MaxLogBatchBytes { get; set; } = 1 << 20;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
            throw new ArgumentException("DurableEngineOptions.ConnectionString is required (set AzureWebJobsStorage, or UseDevelopmentStorage=true for Azurite).");
        if (string.IsNullOrWhiteSpace(ContainerName)) throw new ArgumentException("DurableEngineOptions.ContainerName is required.");
        if (string.IsNullOrWhiteSpace(StatusContainerName)) throw new ArgumentException("DurableEngineOptions.StatusContainerName is required.");
        if (DefaultActivityConcurrency < 1) throw new ArgumentException($"DurableEngineOptions.DefaultActivityConcurrency must be >= 1 (got {DefaultActivityConcurrency}).");
        foreach (var (name, limit) in ActivityConcurrency)
            if (limit < 1) throw new ArgumentException($"DurableEngineOptions.ActivityConcurrency['{name}'] must be >= 1 (got {limit}).");
        DefaultRetry.Validate();
        if (MaxConcurrentInstances < 1) throw new ArgumentException($"DurableEngineOptions.MaxConcurrentInstances must be >= 1 (got {MaxConcurrentInstances}).");
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentException("DurableEngineOptions.PollInterval must be positive.");
        if (LeaseDuration < TimeSpan.FromSeconds(15) || LeaseDuration > TimeSpan.FromSeconds(60))
            throw new ArgumentException($"DurableEngineOptions.LeaseDuration must be 15-60 s (got {LeaseDuration.TotalSeconds} s).");
        if (StatusInterval < TimeSpan.Zero) throw new ArgumentException("DurableEngineOptions.StatusInterval must not be negative.");
        if (MaxLogBatchBytes < 4096 || MaxLogBatchBytes > 2 << 20)
            throw new ArgumentException($"DurableEngineOptions.MaxLogBatchBytes must be 4 KiB-2 MiB (got {MaxLogBatchBytes}).");
    }
}
