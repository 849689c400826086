namespace Pipeline.Host.Engine;

/// <summary>What wakes an instance's pump.</summary>
internal abstract record ExecutionInput
{
    public sealed record ActivityDone(int Sequence, string? ResultJson, string? ErrorType, string? ErrorMessage, int Attempts) : ExecutionInput;
    public sealed record ChildDone(int Sequence, InstanceRecord Final) : ExecutionInput;
    public sealed record TimerFired(int Sequence) : ExecutionInput;
    public sealed record EventArrived(ExternalEventRecord Event) : ExecutionInput;
    public sealed record CancelRequested(string Reason) : ExecutionInput;
    /// <summary>Stop without finishing the instance (engine stopping, lease lost, log write failed); it resumes later.</summary>
    public sealed record Abort(Exception Reason) : ExecutionInput;
    public sealed record Wake : ExecutionInput { public static readonly Wake Instance = new(); }
}

/// <summary>How an execution ended.</summary>
internal enum ExecutionResult { Completed, Failed, Cancelled, Abandoned }

internal sealed record ExecutionOutcome(ExecutionResult Result, string? OutputJson = null, string? Error = null);
