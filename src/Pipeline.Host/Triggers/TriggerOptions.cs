using Pipeline.Core.Runs;

namespace Pipeline.Host.Triggers;

/// <summary>Options of <see cref="AugmentRequestListener"/> (configuration section Pipeline:Triggers:AugmentQueue).</summary>
public sealed class AugmentRequestListenerOptions
{
    /// <summary>The orchestrator started for each valid request.</summary>
    public string OrchestratorName { get; set; } = RunActivityNames.AugmentationRun;

    /// <summary>A message whose processing failed this many times goes to the poison queue (Functions' maxDequeueCount).</summary>
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary>Messages taken per receive (at most 32).</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>How long a received message stays invisible to other listeners while it is processed.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a message that failed stays invisible before its next attempt.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait between polls of an empty queue (the wait doubles from 100 ms up to this).</summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait between reconnection attempts while storage is unreachable.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Options of <see cref="DatasetDropListener"/> (configuration section Pipeline:Triggers:DatasetDrop).</summary>
public sealed class DatasetDropListenerOptions
{
    /// <summary>How often datasets/ is listed (Azurite has no change feed or Event Grid, so the local host polls).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A dataset is ingested once its blobs have not changed for this long (uploads come in bursts).</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Ingestion attempts of one state of a dataset before it is left until its files change again.</summary>
    public int MaxIngestAttempts { get; set; } = 5;

    /// <summary>Wait before the first retry of a failed ingestion; doubles with each further failure.</summary>
    public TimeSpan IngestRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait between reconnection attempts while storage is unreachable.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);
}
