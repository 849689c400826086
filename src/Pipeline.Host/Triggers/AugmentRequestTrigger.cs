using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Triggers;

/// <summary>
/// One "augment-requests" message, handled the same on both hosts (the local <see cref="AugmentRequestListener"/> and
/// the Functions app's queue function through Pipeline.Host.AzureFunctions.AzureTriggerHandlers), by
/// <see cref="TriggerRules"/>:
/// an invalid request (malformed JSON or failed validation) is recorded as Rejected in runs/{id}/status.json, every
/// problem listed, at the run id it names when that id is free, else at rejected-{hash of the message}, and consumed;
/// a valid one starts <see cref="OrchestratorName"/> with its run id (or one derived from the message id) as instance
/// id, idempotently; a failed start is retried by the host, and after the last attempt the run's status records why
/// (Failed if it never started) and the message is moved to augment-requests-poison by this class, on both hosts.
/// </summary>
public sealed class AugmentRequestTrigger(PipelineStorage storage, ILogger logger, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Deliveries of a message before it moves to the poison queue (host.json's queues.maxDequeueCount).</summary>
    public int MaxDequeueCount { get; init; } = TriggerRules.DefaultMaxDequeueCount;

    /// <summary>The orchestrator a valid request starts.</summary>
    public string OrchestratorName { get; init; } = RunActivityNames.AugmentationRun;

    /// <param name="body">The message body, decoded (<see cref="QueueMessages.Decode(string)"/>).</param>
    /// <param name="dequeueCount">The delivery attempt (1 = first).</param>
    public async Task<QueueMessageOutcome> HandleAsync(ReadOnlyMemory<byte> body, string messageId, long dequeueCount,
        IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orchestrations);
        var parsed = AugmentationRequestValidator.Parse(body.Span);
        if (!parsed.IsValid)
            return QueueMessageOutcome.Consumed(await RejectAsync(body, parsed.Problems.Select(p => p.ToString()).ToList(), cancellationToken).ConfigureAwait(false));

        var request = parsed.Request!;
        string runId = request.RunId ?? TriggerRules.RunIdForMessage(messageId);
        if (TriggerRules.IsBeyondLastAttempt(dequeueCount, MaxDequeueCount))
        {
            await PoisonAsync(body, runId, messageId, TriggerRules.PoisonReason(StorageLayout.AugmentRequestsQueue, dequeueCount, null), null, cancellationToken).ConfigureAwait(false);
            return QueueMessageOutcome.Consumed(runId);
        }
        try
        {
            bool started = await orchestrations.ScheduleNewAsync(OrchestratorName, runId, request with { RunId = runId }, cancellationToken).ConfigureAwait(false);
            logger.LogInformation(started ? "Run {RunId} started from message {MessageId}" : "Run {RunId} already exists; message {MessageId} was a repeat", runId, messageId);
            return QueueMessageOutcome.Consumed(runId);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (!TriggerRules.IsLastAttempt(dequeueCount, MaxDequeueCount))
            {
                logger.LogWarning("Run {RunId}: attempt {Attempt} of {Max} failed ({Error}); the host retries it", runId, dequeueCount, MaxDequeueCount, e.Message);
                return QueueMessageOutcome.RetryLater(runId, e);
            }
            await PoisonAsync(body, runId, messageId, TriggerRules.PoisonReason(StorageLayout.AugmentRequestsQueue, dequeueCount, e), e, cancellationToken).ConfigureAwait(false);
            return QueueMessageOutcome.Consumed(runId);
        }
    }

    /// <summary>Status first, so that whoever finds the poison message also finds why it is there.</summary>
    private async Task PoisonAsync(ReadOnlyMemory<byte> body, string runId, string messageId, string reason, Exception? error, CancellationToken cancellationToken)
    {
        logger.LogError(error, "Run {RunId}: message {MessageId} {Reason}", runId, messageId, reason);
        var now = _time.GetUtcNow();
        await storage.Run(runId).UpdateStatusAsync(s => TriggerRules.Poisoned(s, runId, reason, now), cancellationToken).ConfigureAwait(false);
        await QueueMessages.SendAsync(storage.Queue(StorageLayout.AugmentRequestsPoisonQueue), body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the rejection; returns the run id it was recorded at.</summary>
    private async Task<string> RejectAsync(ReadOnlyMemory<byte> body, IReadOnlyList<string> problems, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        string? claimed = TriggerRules.ClaimedRunId(body.Span);
        if (claimed is not null)
        {
            var rejected = TriggerRules.Rejected(claimed, problems, now);
            var written = await storage.Run(claimed).UpdateStatusAsync(s => TriggerRules.RejectAtClaimedId(s, rejected), cancellationToken).ConfigureAwait(false);
            if (written is { State: RunState.Rejected })
            {
                logger.LogWarning("Run {RunId} rejected: {Problems}", claimed, string.Join("; ", problems));
                return claimed;
            }
        }
        string runId = TriggerRules.RejectedRunId(body.Span);
        var byContent = TriggerRules.Rejected(runId, problems, now);
        await storage.Run(runId).UpdateStatusAsync(s => TriggerRules.RejectAtContentId(s, byContent), cancellationToken).ConfigureAwait(false);
        logger.LogWarning("Request rejected as {RunId}: {Problems}", runId, string.Join("; ", problems));
        return runId;
    }
}
