using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Runs;

/// <summary>
/// The local GPU-worker role: consumes "inference-requests" through the trigger core the Functions app's GPU role
/// shares (<see cref="InferenceRequestTrigger"/>: malformed messages and shards that failed their last attempt go to
/// inference-requests-poison, the latter reported to their orchestration), sampling each shard with
/// <see cref="ShardSampler"/> and raising its done event. Idempotent: a redelivered shard whose manifest exists only
/// raises the event again. Several workers (threads or processes) can consume the queue at once.
/// </summary>
public sealed class InferenceWorker(PipelineStorage storage, ShardSampler sampler, IOrchestrationClient orchestrations,
    IOptions<InferenceWorkerOptions> workerOptions, ILogger<InferenceWorker> logger) : BackgroundService
{
    private readonly InferenceWorkerOptions options = workerOptions.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // settings that cannot work are refused once, at start, not per message in the receive loop
        if (options.VisibilityRenewInterval <= TimeSpan.Zero || options.VisibilityRenewInterval >= options.VisibilityTimeout)
            throw new InvalidOperationException($"{InferenceWorkerOptions.SectionName}: VisibilityRenewInterval ({options.VisibilityRenewInterval}) must be positive and shorter than VisibilityTimeout ({options.VisibilityTimeout}).");
        var queue = storage.Queue(StorageLayout.InferenceRequestsQueue);
        var backoff = options.PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var received = await queue.ReceiveMessagesAsync(1, options.VisibilityTimeout, stoppingToken).ConfigureAwait(false);
                backoff = options.PollInterval;
                if (received.Value.Length == 0) { await Task.Delay(options.PollInterval, stoppingToken).ConfigureAwait(false); continue; }
                foreach (var message in received.Value)
                {
                    // the lease on the message: its visibility is extended while the shard is sampled; a message to
                    // retry is left (not renewed any more) to come back when its visibility timeout ends
                    await using var lease = new QueueMessageLease(queue, message, options.VisibilityTimeout, options.VisibilityRenewInterval, logger);
                    if (await HandleAsync(message, stoppingToken).ConfigureAwait(false))
                        await lease.DeleteAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                // storage unreachable (e.g. Azurite restarting) or a transient failure: back off, never crash-loop;
                // the message becomes visible again after its timeout and is retried.
                logger.LogWarning(e, "Inference worker: {Error}; retrying in {Delay}", e.Message, backoff);
                try { await Task.Delay(backoff, stoppingToken).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>One message through the trigger core the Functions app's GPU role shares
    /// (<see cref="InferenceRequestTrigger"/>); true when the message is done with (to be deleted).</summary>
    private async Task<bool> HandleAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        var trigger = new InferenceRequestTrigger(storage, logger) { MaxDequeueCount = options.MaxDequeueCount };
        var outcome = await trigger.HandleAsync(QueueMessages.Decode(message), message.MessageId, message.DequeueCount, sampler.SampleShardAsync, orchestrations, cancellationToken).ConfigureAwait(false);
        return outcome.Action == QueueMessageAction.Consumed;
    }
}
