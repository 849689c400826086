namespace Pipeline.Core.Orchestration;

/// <summary>
/// Retry policy of an activity or sub-orchestration call, modelled on Durable Functions' RetryOptions:
/// attempt n (n &gt;= 2) waits FirstRetryInterval * BackoffCoefficient^(n-2), capped by MaxRetryInterval.
/// </summary>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan FirstRetryInterval, double BackoffCoefficient = 2.0, TimeSpan? MaxRetryInterval = null)
{
    public static RetryPolicy None { get; } = new(1, TimeSpan.Zero);
    public static RetryPolicy Default { get; } = new(3, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(30));

    /// <summary>The wait before attempt <paramref name="attempt"/> (2 = the first retry).</summary>
    public TimeSpan DelayBeforeAttempt(int attempt)
    {
        if (attempt < 2) return TimeSpan.Zero;
        double ms = FirstRetryInterval.TotalMilliseconds * Math.Pow(BackoffCoefficient, attempt - 2);
        if (MaxRetryInterval is { } cap) ms = Math.Min(ms, cap.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Math.Min(ms, TimeSpan.FromDays(1).TotalMilliseconds));
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (MaxAttempts < 1) throw new ArgumentException($"RetryPolicy.MaxAttempts must be >= 1 (got {MaxAttempts}).");
        if (FirstRetryInterval < TimeSpan.Zero) throw new ArgumentException($"RetryPolicy.FirstRetryInterval must not be negative (got {FirstRetryInterval}).");
        if (!(BackoffCoefficient >= 1.0) || double.IsInfinity(BackoffCoefficient))
            throw new ArgumentException($"RetryPolicy.BackoffCoefficient must be a finite number >= 1 (got {BackoffCoefficient}).");
        if (MaxRetryInterval is { } cap && cap < TimeSpan.Zero) throw new ArgumentException($"RetryPolicy.MaxRetryInterval must not be negative (got {cap}).");
    }
}

/// <summary>
/// The port the orchestrations are written against, modelled on Durable Functions' TaskOrchestrationContext.
/// Orchestrator code must be deterministic: no I/O, clocks, randomness or environment reads; only this context.
/// Never leave the orchestrator's thread (no Task.Run, no ConfigureAwait(false), no Task.Delay: use <see cref="CreateTimer"/>).
/// Locally an adapter runs it on the Durable Task Framework's classic API (Pipeline.Host/TaskHub, Azure Storage provider);
/// in Azure an adapter maps it onto Durable Functions (Pipeline.Host/AzureFunctions).
/// Payloads are JSON-serialisable records (<see cref="OrchestrationJson.Options"/>) and must stay small (blob references, not pixels).
/// </summary>
public interface IRunContext
{
    /// <summary>The instance id (the run id for AugmentationRun).</summary>
    string InstanceId { get; }

    /// <summary>The registered name of the running orchestrator.</summary>
    string Name { get; }

    /// <summary>Replay-safe current time: the time recorded when this point of the orchestration first executed.</summary>
    DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the orchestrator is re-executing history (use to suppress duplicate logging).</summary>
    bool IsReplaying { get; }

    /// <summary>The orchestration's input, deserialised.</summary>
    T GetInput<T>();

    /// <summary>Calls an activity by name; completed calls are answered from the history on replay.
    /// Throws <see cref="ActivityFailedException"/> when the activity still fails after the retry policy.</summary>
    Task<TResult> CallActivityAsync<TResult>(string name, object? input, RetryPolicy? retry = null);

    /// <summary>Calls a sub-orchestration with an explicit, deterministic instance id.
    /// Throws <see cref="OrchestrationFailedException"/> when the child fails (after the retry policy; attempt n &gt;= 2
    /// runs as instance "{instanceId}-retry{n}").</summary>
    Task<TResult> CallSubOrchestratorAsync<TResult>(string name, string instanceId, object? input, RetryPolicy? retry = null);

    /// <summary>Waits for a durable external event (events raised before the wait started still count; each wait
    /// consumes the oldest unconsumed event of that name). Throws <see cref="TimeoutException"/> when
    /// <paramref name="timeout"/> passes first (a durable timer; <see cref="Timeout.InfiniteTimeSpan"/> waits forever).</summary>
    Task<T> WaitForExternalEventAsync<T>(string name, TimeSpan timeout);

    /// <summary>A durable timer that completes at <paramref name="fireAtUtc"/>; cancelling the token abandons it
    /// (the returned task ends cancelled).</summary>
    Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken = default);

    /// <summary>Sets the custom status shown in the status API and runs/{id}/status.json. An object with a "stage"
    /// string and/or a "progress" object ({total, completed, failed}) also fills RunStatus.Stage / Progress.</summary>
    void SetCustomStatus(object? status);

    /// <summary>A replay-safe new GUID (deterministic from the instance id and the call order).</summary>
    Guid NewGuid();
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

    /// <summary>Raises a durable external event to an instance. Throws <see cref="OrchestrationNotFoundException"/>
    /// when the instance does not exist; an event to a finished instance is dropped.</summary>
    Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken = default);

    /// <summary>Requests cancellation; the instance ends as cancelled (a finished instance is left as it is).
    /// Running activities see their cancellation token fire; running sub-orchestrations are cancelled too.</summary>
    Task CancelAsync(string instanceId, string reason, CancellationToken cancellationToken = default);

    /// <summary>The instance's state, or null when it does not exist.</summary>
    Task<OrchestrationInstance?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Waits until the instance is completed, failed or cancelled and returns its final state.</summary>
    Task<OrchestrationInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default);
}
