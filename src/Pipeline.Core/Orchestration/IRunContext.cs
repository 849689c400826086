namespace Pipeline.Core.Orchestration;

/// <summary>
/// Retry policy of an activity or sub-orchestration call, modelled on Durable Functions' RetryOptions:
/// attempt n (n &gt;= 2) waits FirstRetryInterval * BackoffCoefficient^(n-2), capped by MaxRetryInterval.
/// </summary>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan FirstRetryInterval, double BackoffCoefficient = 2.0, TimeSpan? MaxRetryInterval = null)
{
    public static RetryPolicy None { get; } = new(1, TimeSpan.Zero);
    public static RetryPolicy Default { get; } = new(3, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(30));
}

/// <summary>
/// The port the orchestrations are written against, modelled on Durable Functions' TaskOrchestrationContext.
/// Orchestrator code must be deterministic: no I/O, clocks, randomness or environment reads; only this context.
/// Locally the project's engine (Pipeline.Host/Engine) implements it with a checkpoint log in blob storage; in Azure an
/// adapter maps it onto Durable Functions.
/// Payloads are JSON-serialisable records and must stay small (blob references, not pixels).
/// </summary>
public interface IRunContext
{
    /// <summary>The instance id (the run id for AugmentationRun).</summary>
    string InstanceId { get; }

    /// <summary>Replay-safe current time: the time recorded when this point of the orchestration first executed.</summary>
    DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the orchestrator is re-executing history (use to suppress duplicate logging).</summary>
    bool IsReplaying { get; }

    /// <summary>The orchestration's input, deserialised.</summary>
    T GetInput<T>();

    /// <summary>Calls an activity by name; completed calls are answered from the checkpoint log on replay.</summary>
    Task<TResult> CallActivityAsync<TResult>(string name, object? input, RetryPolicy? retry = null);

    /// <summary>Calls a sub-orchestration with an explicit, deterministic instance id.</summary>
    Task<TResult> CallSubOrchestratorAsync<TResult>(string name, string instanceId, object? input, RetryPolicy? retry = null);

    /// <summary>Waits for a durable external event (events raised before the wait started still count).
    /// Throws <see cref="TimeoutException"/> when <paramref name="timeout"/> passes first.</summary>
    Task<T> WaitForExternalEventAsync<T>(string name, TimeSpan timeout);

    /// <summary>A durable timer.</summary>
    Task CreateTimer(DateTime fireAtUtc);

    /// <summary>Sets the custom status shown in the status API and runs/{id}/status.json.</summary>
    void SetCustomStatus(object? status);
}

/// <summary>An orchestrator: deterministic code against <see cref="IRunContext"/>, registered by <see cref="Name"/>.</summary>
public interface IOrchestrator
{
    string Name { get; }
    Task<object?> RunAsync(IRunContext context);
}

/// <summary>An activity: idempotent work with I/O, writing to deterministic blob paths. Input and output are JSON.</summary>
public interface IActivity
{
    string Name { get; }
    Task<object?> RunAsync(System.Text.Json.JsonElement input, CancellationToken cancellationToken);
}

/// <summary>Starts and manages orchestration instances (Durable Functions' DurableTaskClient, locally the engine).</summary>
public interface IOrchestrationClient
{
    /// <summary>Schedules an instance; idempotent: when <paramref name="instanceId"/> exists it is not started twice
    /// and false is returned.</summary>
    Task<bool> ScheduleNewAsync(string orchestratorName, string instanceId, object? input, CancellationToken cancellationToken = default);

    /// <summary>Raises a durable external event to an instance.</summary>
    Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken = default);

    /// <summary>Requests cancellation; the instance ends as cancelled.</summary>
    Task CancelAsync(string instanceId, string reason, CancellationToken cancellationToken = default);
}
