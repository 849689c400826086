namespace Pipeline.Core.Orchestration;

/// <summary>An activity failed on every attempt of its retry policy (Durable Functions' TaskFailedException).</summary>
public sealed class ActivityFailedException : Exception
{
    public ActivityFailedException(string activityName, string errorType, string errorMessage, int attempts)
        : base($"Activity '{activityName}' failed after {attempts} attempt{(attempts == 1 ? "" : "s")}: {errorType}: {errorMessage}")
    {
        ActivityName = activityName; ErrorType = errorType; ErrorMessage = errorMessage; Attempts = attempts;
    }

    public string ActivityName { get; }
    /// <summary>The .NET type name of the activity's last exception.</summary>
    public string ErrorType { get; }
    /// <summary>The message of the activity's last exception.</summary>
    public string ErrorMessage { get; }
    public int Attempts { get; }
}

/// <summary>An orchestration (or a sub-orchestration called from one) ended failed or cancelled.</summary>
public sealed class OrchestrationFailedException : Exception
{
    public OrchestrationFailedException(string orchestratorName, string instanceId, string errorMessage)
        : base($"Orchestration '{orchestratorName}' (instance '{instanceId}') failed: {errorMessage}")
    {
        OrchestratorName = orchestratorName; InstanceId = instanceId; ErrorMessage = errorMessage;
    }

    public string OrchestratorName { get; }
    public string InstanceId { get; }
    public string ErrorMessage { get; }
}

/// <summary>
/// The orchestrator did not make the same calls on replay as when the checkpoint log was written (code changed
/// while an instance was in flight, or the orchestrator reads clocks, randomness or I/O). The engine fails the instance.
/// </summary>
public sealed class NonDeterministicOrchestrationException : Exception
{
    public NonDeterministicOrchestrationException(string instanceId, string message)
        : base($"Nondeterministic orchestration '{instanceId}': {message}") { InstanceId = instanceId; }

    public string InstanceId { get; }
}

/// <summary>No orchestration instance has the given id.</summary>
public sealed class OrchestrationNotFoundException : Exception
{
    public OrchestrationNotFoundException(string instanceId)
        : base($"No orchestration instance '{instanceId}' exists; schedule it first.") { InstanceId = instanceId; }

    public string InstanceId { get; }
}
