namespace Pipeline.Host.AzureFunctions;

/// <summary>
/// The part of Durable Functions' <c>TaskOrchestrationContext</c> (Microsoft.DurableTask) the adapter uses, in the
/// project's own types so that the mapping onto <see cref="Pipeline.Core.Orchestration.IRunContext"/> lives in src/
/// and is tested by CI. <see cref="TaskOrchestrationContextAdapter"/> implements it by forwarding each member and turns Durable's
/// TaskFailedException into <see cref="DurableTaskFailedException"/>.
/// </summary>
public interface IDurableOrchestrationContext
{
    string InstanceId { get; }

    /// <summary>Whether this orchestration was started by another one (Durable's <c>Parent</c> is set).</summary>
    bool IsSubOrchestration { get; }

    DateTime CurrentUtcDateTime { get; }

    bool IsReplaying { get; }

    T? GetInput<T>();

    Guid NewGuid();

    void SetCustomStatus(object? status);

    /// <summary>An activity call; <paramref name="retry"/> maps onto <c>TaskOptions.FromRetryPolicy</c>.</summary>
    Task<T> CallActivityAsync<T>(string name, object? input, DurableRetry? retry);

    /// <summary>A sub-orchestration with an explicit instance id (<c>SubOrchestrationOptions.InstanceId</c>), no retry:
    /// the adapter retries itself, with the local engine's instance ids.</summary>
    Task<T> CallSubOrchestratorAsync<T>(string name, string instanceId, object? input);

    /// <summary>A durable timer; cancelling the token abandons it (the task ends cancelled).</summary>
    Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken);

    /// <summary>Waits for an external event; cancelling the token abandons the wait (the task ends cancelled).</summary>
    Task<T> WaitForExternalEvent<T>(string name, CancellationToken cancellationToken);
}

/// <summary>An activity or sub-orchestration failed in Durable Functions (its TaskFailedException, with the failure
/// details of the last attempt).</summary>
public sealed class DurableTaskFailedException(string taskName, string errorType, string errorMessage, Exception? innerException = null)
    : Exception($"Task '{taskName}' failed: {errorType}: {errorMessage}", innerException)
{
    public string TaskName { get; } = taskName;
    public string ErrorType { get; } = errorType;
    public string ErrorMessage { get; } = errorMessage;
}
