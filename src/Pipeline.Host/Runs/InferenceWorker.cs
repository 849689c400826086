using Azure.Storage.Queues;
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
/// <para>It receives up to <see cref="InferenceWorkerOptions.MaxShardsPerPass"/> messages at a time and samples their
/// shards in one pass (<see cref="ShardSampler.SampleShardsAsync"/>), so items of different shards fill the same
/// denoiser batches: the device does not run half-empty batches while other shards wait in the queue.</para>
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
        if (options.MaxShardsPerPass is < 1 or > 32)
            throw new InvalidOperationException($"{InferenceWorkerOptions.SectionName}: MaxShardsPerPass ({options.MaxShardsPerPass}) must be between 1 and 32 (the most messages a queue receive returns).");
        if (options.MaxBatchSize < 1)
            throw new InvalidOperationException($"{InferenceWorkerOptions.SectionName}: MaxBatchSize ({options.MaxBatchSize}) must be positive.");
        var queue = storage.Queue(StorageLayout.InferenceRequestsQueue);
        var backoff = options.PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var received = await queue.ReceiveMessagesAsync(options.MaxShardsPerPass, options.VisibilityTimeout, stoppingToken).ConfigureAwait(false);
                backoff = options.PollInterval;
                if (received.Value.Length == 0) { await Task.Delay(options.PollInterval, stoppingToken).ConfigureAwait(false); continue; }
                // every message received is handled at once; the shards among them share one sampling pass
                var pass = new ShardPassCollector(sampler, received.Value.Length);
                await Task.WhenAll(received.Value.Select(m => HandleAsync(queue, m, pass, stoppingToken))).ConfigureAwait(false);
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
    /// (<see cref="InferenceRequestTrigger"/>), its shard sampled in the pass of <paramref name="pass"/>; the message is
    /// deleted when done with, else left to come back when its visibility ends.</summary>
    private async Task HandleAsync(QueueClient queue, QueueMessage message, ShardPassCollector pass, CancellationToken cancellationToken)
    {
        bool asked = false;
        try
        {
            // the lease on the message: its visibility is extended while the shard is sampled; a message to
            // retry is left (not renewed any more) to come back when its visibility timeout ends
            await using var lease = new QueueMessageLease(queue, message, options.VisibilityTimeout, options.VisibilityRenewInterval, logger);
            var trigger = new InferenceRequestTrigger(storage, logger) { MaxDequeueCount = options.MaxDequeueCount };
            var outcome = await trigger.HandleAsync(QueueMessages.Decode(message), message.MessageId, message.DequeueCount,
                (request, token) => { asked = true; return pass.SampleAsync(request, token); }, orchestrations, cancellationToken).ConfigureAwait(false);
            if (outcome.Action == QueueMessageAction.Consumed) await lease.DeleteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
        catch (Exception e)
        {
            // storage unreachable or a transient failure: the message becomes visible again after its timeout
            logger.LogWarning(e, "Inference worker: message {MessageId}: {Error}; it comes back after its visibility timeout", message.MessageId, e.Message);
        }
        finally
        {
            if (!asked) pass.Skip(); // handled without sampling (malformed, last attempt, or failed before): the pass need not wait for it
        }
    }
}
