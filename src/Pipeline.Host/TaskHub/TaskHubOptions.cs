namespace Pipeline.Host.TaskHub;

/// <summary>
/// Settings of the local host's orchestration engine: the Durable Task Framework over its Azure Storage provider
/// (section Pipeline:Engine; defaults and the reasons for them in docs/engine.md). The defaults are tuned so that work
/// held by a killed process, or lost with a lease during a storage outage, comes back within about 15-20 s.
/// </summary>
public sealed class TaskHubOptions
{
    /// <summary>Storage connection string (AzureWebJobsStorage; "UseDevelopmentStorage=true" for a default Azurite).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Task hub name (letters and digits, 3-45 characters, starting with a letter): the prefix of the hub's
    /// queues, tables and lease container. Empty: the PIPELINE_TASK_HUB setting, as the Functions host reads it
    /// (host.json "hubName"), else <see cref="DefaultTaskHubName"/>.</summary>
    public string? TaskHubName { get; set; }

    /// <summary>Whether this process runs orchestrations and activities (false: a process that only schedules, raises
    /// events and reads state through the client, e.g. <c>pipeline serve --role gpu</c>).</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>Control-queue partitions (1-16; host.json's partitionCount is 4). Instances are spread over them and each
    /// is leased by one process: this bounds how many processes share orchestration work. Fixed once a hub exists.</summary>
    public int PartitionCount { get; set; } = 4;

    /// <summary>How long a dequeued activity message stays invisible. A process killed while running an activity
    /// leaves its message invisible this long before another process runs it; the framework renews it every 5 s while
    /// the activity runs (10 s of margin at 15 s), so long activities are not redelivered. Framework default: 5 minutes.</summary>
    public TimeSpan WorkItemQueueVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a dequeued orchestration (control-queue) message stays invisible; the same trade-off for
    /// orchestration steps held by a killed process. Only the messages of the step being run are renewed; messages the
    /// provider has fetched ahead and holds for a busy instance are not, and reappear (to be fetched again, their first
    /// copy then failing to delete) if they wait longer than this: at 15 s, duplicates of a repeated step cycled in the
    /// control queue without end. Framework default: 5 minutes.</summary>
    public TimeSpan ControlQueueVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Partition lease duration (blob leases allow 15-60 s): a partition held by a killed process is taken
    /// over this long after its last renewal. Framework default: 30 s.</summary>
    public TimeSpan LeaseInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often held leases are renewed (well under <see cref="LeaseInterval"/>). Framework default: 10 s.</summary>
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a process looks for partitions to take (free, expired or unbalanced): a killed process's
    /// partition is taken at most this long after its lease expired. Framework default: 10 s.</summary>
    public TimeSpan LeaseAcquireInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait between two polls of an empty queue (the framework backs off up to it). Framework
    /// default: 30 s; host.json: 10 s. Short locally, where an idle queue costs nothing.</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Activities this process runs at once. Framework default: 10.</summary>
    public int MaxConcurrentActivities { get; set; } = 16;

    /// <summary>Orchestration steps this process runs at once. Framework default: 100.</summary>
    public int MaxConcurrentOrchestrations { get; set; } = 64;

    /// <summary>Keep an orchestration's history in memory between its steps (no reload from the History table per
    /// step, which makes a large fan-out quadratic); the state is still checkpointed at every step.</summary>
    public bool ExtendedSessionsEnabled { get; set; } = true;

    /// <summary>How long an idle extended session stays in memory. Short, because a partition that moves to another
    /// process (a process joined, or is stopping) is handed over only when its sessions have ended: a long idle
    /// timeout pauses the instances of a moving partition that long. Framework default: 30 s.</summary>
    public TimeSpan ExtendedSessionIdleTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Partition ownership in a table (the provider's newer partition manager) instead of blob leases.</summary>
    public bool UseTablePartitionManagement { get; set; }

    /// <summary>Container of the run folders: a top-level instance's state is projected onto
    /// {StatusContainerName}/{instanceId}/status.json.</summary>
    public string StatusContainerName { get; set; } = "runs";

    /// <summary>How often <see cref="TaskHubOrchestrationClient.WaitForCompletionAsync"/> polls the instance's state.</summary>
    public TimeSpan ClientPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    public const string DefaultTaskHubName = "pipelinelocal";

    /// <summary>The setting the Functions host's host.json reads the hub name from.</summary>
    public const string TaskHubSetting = "PIPELINE_TASK_HUB";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
            throw new ArgumentException("Pipeline:Engine: ConnectionString is required (set AzureWebJobsStorage, or UseDevelopmentStorage=true for Azurite).");
        ValidateTaskHubName(TaskHubName ?? DefaultTaskHubName);
        if (PartitionCount is < 1 or > 16) throw new ArgumentException($"Pipeline:Engine:PartitionCount must be 1-16 (got {PartitionCount}).");
        if (WorkItemQueueVisibilityTimeout < TimeSpan.FromSeconds(10))
            throw new ArgumentException($"Pipeline:Engine:WorkItemQueueVisibilityTimeout must be at least 10 s (got {WorkItemQueueVisibilityTimeout}); the framework renews it every 5 s.");
        if (ControlQueueVisibilityTimeout < TimeSpan.FromSeconds(10))
            throw new ArgumentException($"Pipeline:Engine:ControlQueueVisibilityTimeout must be at least 10 s (got {ControlQueueVisibilityTimeout}).");
        if (LeaseInterval < TimeSpan.FromSeconds(15) || LeaseInterval > TimeSpan.FromSeconds(60))
            throw new ArgumentException($"Pipeline:Engine:LeaseInterval must be 15-60 s, a blob lease rule (got {LeaseInterval.TotalSeconds} s).");
        if (LeaseRenewInterval <= TimeSpan.Zero || LeaseRenewInterval * 2 > LeaseInterval)
            throw new ArgumentException($"Pipeline:Engine:LeaseRenewInterval must be positive and at most half of LeaseInterval (got {LeaseRenewInterval}).");
        if (LeaseAcquireInterval <= TimeSpan.Zero) throw new ArgumentException("Pipeline:Engine:LeaseAcquireInterval must be positive.");
        if (MaxQueuePollingInterval <= TimeSpan.Zero) throw new ArgumentException("Pipeline:Engine:MaxQueuePollingInterval must be positive.");
        if (MaxConcurrentActivities < 1) throw new ArgumentException($"Pipeline:Engine:MaxConcurrentActivities must be >= 1 (got {MaxConcurrentActivities}).");
        if (MaxConcurrentOrchestrations < 1) throw new ArgumentException($"Pipeline:Engine:MaxConcurrentOrchestrations must be >= 1 (got {MaxConcurrentOrchestrations}).");
        if (ExtendedSessionIdleTimeout < TimeSpan.FromSeconds(1)) throw new ArgumentException("Pipeline:Engine:ExtendedSessionIdleTimeout must be at least 1 s.");
        if (string.IsNullOrWhiteSpace(StatusContainerName)) throw new ArgumentException("Pipeline:Engine:StatusContainerName is required.");
        if (ClientPollInterval <= TimeSpan.Zero) throw new ArgumentException("Pipeline:Engine:ClientPollInterval must be positive.");
    }

    /// <summary>Task hub names become queue, table and container names: letters and digits, 3-45 characters, a letter first.</summary>
    public static void ValidateTaskHubName(string name)
    {
        if (name.Length is < 3 or > 45 || !char.IsAsciiLetter(name[0]) || !name.All(char.IsAsciiLetterOrDigit))
            throw new ArgumentException($"Task hub name '{name}' is invalid: use 3-45 letters and digits, starting with a letter (set {TaskHubSetting} or Pipeline:Engine:TaskHubName).");
    }
}
