namespace Pipeline.Host.Triggers;

/// <summary>What a host does with a queue message after a trigger core handled it.</summary>
public enum QueueMessageAction
{
    /// <summary>Done with it (started, a repeat, rejected, or moved to the poison queue by the core): delete it (the
    /// local host) or return normally (Functions, which then deletes it).</summary>
    Consumed,

    /// <summary>Handling failed and attempts are left: make it visible again later (the local host) or rethrow
    /// <see cref="QueueMessageOutcome.Error"/> (Functions, which redelivers it).</summary>
    RetryLater,
}

/// <param name="RunId">The run the message was about, when known.</param>
/// <param name="Error">Why handling failed (with <see cref="QueueMessageAction.RetryLater"/>).</param>
public sealed record QueueMessageOutcome(QueueMessageAction Action, string? RunId = null, Exception? Error = null)
{
    public static QueueMessageOutcome Consumed(string? runId = null) => new(QueueMessageAction.Consumed, runId);

    public static QueueMessageOutcome RetryLater(string? runId, Exception error) => new(QueueMessageAction.RetryLater, runId, error);
}
