using Microsoft.Extensions.Logging;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Triggers;

/// <summary>
/// One "inference-requests" message, handled the same on both hosts (the local GPU worker,
/// Pipeline.Host.Runs.InferenceWorker, and the Functions app's GPU role through
/// Pipeline.Host.AzureFunctions.AzureInferenceRequestHandler), by <see cref="TriggerRules"/>: a malformed message
/// moves to inference-requests-poison at once (retrying cannot fix it); a shard is sampled (idempotently) and its
/// done event raised on the waiting orchestration; a failure is retried by the host, and after the last attempt the
/// orchestration is told the shard gave up (so it does not wait for its inference timeout) and the message moves to
/// inference-requests-poison, moved by this class on both hosts.
/// </summary>
public sealed class InferenceRequestTrigger(PipelineStorage storage, ILogger logger)
{
    /// <summary>Deliveries of a message before it moves to the poison queue (host.json's queues.maxDequeueCount).</summary>
    public int MaxDequeueCount { get; init; } = TriggerRules.DefaultMaxDequeueCount;

    /// <param name="body">The message body, decoded (<see cref="QueueMessages.Decode(string)"/>).</param>
    /// <param name="dequeueCount">The delivery attempt (1 = first).</param>
    /// <param name="sample">Samples the shard and writes its outputs (idempotent: a shard already written is only counted).</param>
    public async Task<QueueMessageOutcome> HandleAsync(ReadOnlyMemory<byte> body, string messageId, long dequeueCount,
        Func<InferenceRequestMessage, CancellationToken, Task<InferenceDone>> sample, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(orchestrations);
        var (request, problem) = TriggerRules.ReadInferenceRequest(body.Span);
        if (request is null)
        {
            logger.LogError("Inference request {MessageId} moved to {Queue}, malformed: {Problem}", messageId, StorageLayout.InferenceRequestsPoisonQueue, problem);
            await SendToPoisonAsync(body, cancellationToken).ConfigureAwait(false);
            return QueueMessageOutcome.Consumed();
        }
        if (TriggerRules.IsBeyondLastAttempt(dequeueCount, MaxDequeueCount))
        {
            await GiveUpAsync(body, messageId, request, dequeueCount, null, orchestrations, cancellationToken).ConfigureAwait(false);
            return QueueMessageOutcome.Consumed(request.RunId);
        }
        try
        {
            var done = await sample(request, cancellationToken).ConfigureAwait(false);
            await orchestrations.RaiseEventAsync(request.InstanceId, RunActivityNames.InferenceDoneEvent(request.ShardIndex), done, cancellationToken).ConfigureAwait(false);
            return QueueMessageOutcome.Consumed(request.RunId);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (!TriggerRules.IsLastAttempt(dequeueCount, MaxDequeueCount))
            {
                logger.LogWarning("Run {RunId} shard {Shard}: attempt {Attempt} of {Max} failed ({Error}); the host retries it",
                    request.RunId, request.ShardIndex, dequeueCount, MaxDequeueCount, e.Message);
                return QueueMessageOutcome.RetryLater(request.RunId, e);
            }
            await GiveUpAsync(body, messageId, request, dequeueCount, e, orchestrations, cancellationToken).ConfigureAwait(false);
            return QueueMessageOutcome.Consumed(request.RunId);
        }
    }

    /// <summary>The orchestration learns first that the shard failed, then the message moves to the poison queue.</summary>
    private async Task GiveUpAsync(ReadOnlyMemory<byte> body, string messageId, InferenceRequestMessage request, long dequeueCount, Exception? error,
        IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        var gaveUp = TriggerRules.ShardGaveUp(request, dequeueCount, error);
        logger.LogError(error, "Inference request {MessageId} moved to {Queue}: {Reason}", messageId, StorageLayout.InferenceRequestsPoisonQueue, gaveUp.Error);
        await orchestrations.RaiseEventAsync(request.InstanceId, RunActivityNames.InferenceDoneEvent(request.ShardIndex), gaveUp, cancellationToken).ConfigureAwait(false);
        await SendToPoisonAsync(body, cancellationToken).ConfigureAwait(false);
    }

    private Task SendToPoisonAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        QueueMessages.SendAsync(storage.Queue(StorageLayout.InferenceRequestsPoisonQueue), body, cancellationToken);
}
