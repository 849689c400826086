using Pipeline.Core.Contracts;

namespace Pipeline.Host.Engine;

/// <summary>
/// Durable state of the local engine: instance records, the per-instance checkpoint log, the external-event inbox,
/// cancel requests, the set of unfinished ("active") instances with a lease per running instance, and the run status
/// document. <see cref="BlobCheckpointStore"/> keeps it in blob storage.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Creates the containers when missing.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the record only when no instance with its id exists; false when one does.</summary>
    Task<bool> TryCreateInstanceAsync(InstanceRecord record, CancellationToken cancellationToken = default);

    Task<InstanceRecord?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Overwrites the record (only the lease holder does this after creation).</summary>
    Task SaveInstanceAsync(InstanceRecord record, CancellationToken cancellationToken = default);

    /// <summary>Writes {StatusContainer}/{runId}/status.json.</summary>
    Task WriteRunStatusAsync(RunStatus status, CancellationToken cancellationToken = default);

    /// <summary>Adds the instance to the active set (no-op when it is there).</summary>
    Task MarkActiveAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Ids of the active (not yet finished) instances.</summary>
    IAsyncEnumerable<string> ListActiveAsync(CancellationToken cancellationToken = default);

    /// <summary>Takes the lease that lets this process run the instance; null when another live owner holds it or the
    /// instance left the active set. A lease of an owner that is gone (same machine, process exited) is broken.</summary>
    Task<IInstanceLease?> TryAcquireAsync(string instanceId, InstanceLeaseOwner owner, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>The checkpoint log in the order it was written.</summary>
    IAsyncEnumerable<CheckpointRecord> ReadLogAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>An appender writing a new log segment after the existing ones (the caller holds the lease).</summary>
    ICheckpointLogAppender OpenLogAppender(string instanceId);

    Task AddEventAsync(string instanceId, ExternalEventRecord externalEvent, CancellationToken cancellationToken = default);

    /// <summary>Events raised to the instance in the order raised, skipping ids in <paramref name="skip"/>.</summary>
    Task<IReadOnlyList<ExternalEventRecord>> ListEventsAsync(string instanceId, Predicate<string>? skip = null, CancellationToken cancellationToken = default);

    Task RequestCancelAsync(string instanceId, string reason, CancellationToken cancellationToken = default);

    /// <summary>The reason of a pending cancel request, or null.</summary>
    Task<string?> GetCancelRequestAsync(string instanceId, CancellationToken cancellationToken = default);
}

/// <summary>Appends batches of encoded checkpoint records (whole lines); each call is atomic.</summary>
public interface ICheckpointLogAppender
{
    Task AppendAsync(ReadOnlyMemory<byte> lines, CancellationToken cancellationToken = default);
}

/// <summary>Who runs an instance: lets a restarted process on the same machine take over at once from a killed one.</summary>
public sealed record InstanceLeaseOwner(string Host, int ProcessId, long ProcessStartTicks)
{
    public static InstanceLeaseOwner Current { get; } = Create();

    private static InstanceLeaseOwner Create()
    {
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        return new InstanceLeaseOwner(Environment.MachineName, p.Id, p.StartTime.ToUniversalTime().Ticks);
    }

    /// <summary>True when this owner is on this machine and its process no longer runs.</summary>
    public bool IsDeadLocalProcess()
    {
        if (!string.Equals(Host, Environment.MachineName, StringComparison.Ordinal)) return false;
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(ProcessId);
            return p.HasExited || p.StartTime.ToUniversalTime().Ticks != ProcessStartTicks;
        }
        catch (ArgumentException) { return true; } // no such process
        catch (InvalidOperationException) { return true; }
    }
}

/// <summary>The right to run one instance; renew it well within its duration.</summary>
public interface IInstanceLease : IAsyncDisposable
{
    string InstanceId { get; }
    /// <summary>Throws when the lease was lost (another owner took it).</summary>
    Task RenewAsync(CancellationToken cancellationToken = default);
    /// <summary>Lets another owner take the instance (it stays active).</summary>
    Task ReleaseAsync(CancellationToken cancellationToken = default);
    /// <summary>Removes the instance from the active set (it is finished) and ends the lease.</summary>
    Task CompleteAsync(CancellationToken cancellationToken = default);
}

/// <summary>An event raised to an instance; <see cref="EventId"/> sorts in raise order.</summary>
public sealed record ExternalEventRecord(string EventId, string Name, string? PayloadJson);

/// <summary>The engine's record of an instance (instances/{id}/instance.json).</summary>
public sealed record InstanceRecord
{
    public required string InstanceId { get; init; }
    public required string Name { get; init; }
    public required RunState State { get; init; }
    /// <summary>The input as JSON text.</summary>
    public string? InputJson { get; init; }
    public string? ParentInstanceId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>When the orchestrator first ran: the replay-safe time before its first completed call.</summary>
    public DateTime? StartedAtUtc { get; init; }
    /// <summary>How many times an engine started (or resumed) the instance.</summary>
    public int Executions { get; init; }
    public string? OutputJson { get; init; }
    public string? CustomStatusJson { get; init; }
    public string? Stage { get; init; }
    public RunProgress? Progress { get; init; }
    public string? Error { get; init; }

    public bool IsTerminal => State is RunState.Completed or RunState.CompletedWithFailures or RunState.Failed or RunState.Cancelled or RunState.Rejected;
}
