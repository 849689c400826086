using System.Text;
using System.Text.Json;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Runs;

/// <summary>
/// The local GPU-worker role: consumes "inference-requests", samples each shard with <see cref="ShardSampler"/>, then
/// raises the shard's done event to the waiting orchestration; a message delivered too often goes to
/// inference-requests-poison and the shard's failure is reported. Idempotent: a redelivered shard whose manifest
/// exists only raises the event again. Several workers (threads or processes) can consume the queue at once.
/// </summary>
public sealed class InferenceWorker(PipelineStorage storage, ShardSampler sampler, IOrchestrationClient orchestrations,
    IOptions<InferenceWorkerOptions> workerOptions, ILogger<InferenceWorker> logger) : BackgroundService
{
    private readonly InferenceWorkerOptions options = workerOptions.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
                    await HandleAsync(message, stoppingToken).ConfigureAwait(false);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken).ConfigureAwait(false);
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

    private async Task HandleAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        InferenceRequestMessage request;
        try
        {
            request = PipelineJson.Deserialize<InferenceRequestMessage>(QueueMessages.Decode(message), "inference request");
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            await PoisonAsync(message, $"malformed message: {e.Message}", cancellationToken).ConfigureAwait(false);
            return;
        }
        if (message.DequeueCount > options.MaxDequeueCount)
        {
            string reason = $"shard {request.ShardIndex} of run {request.RunId} failed {options.MaxDequeueCount} times";
            await PoisonAsync(message, reason, cancellationToken).ConfigureAwait(false);
            await RaiseAsync(request, new InferenceDone(request.ShardIndex, 0, 0, reason), cancellationToken).ConfigureAwait(false);
            return;
        }
        var done = await sampler.SampleShardAsync(request, cancellationToken).ConfigureAwait(false);
        await RaiseAsync(request, done, cancellationToken).ConfigureAwait(false);
    }

    private Task RaiseAsync(InferenceRequestMessage request, InferenceDone done, CancellationToken cancellationToken) =>
        orchestrations.RaiseEventAsync(request.InstanceId, RunActivityNames.InferenceDoneEvent(request.ShardIndex), done, cancellationToken);

    private async Task PoisonAsync(QueueMessage message, string reason, CancellationToken cancellationToken)
    {
        logger.LogError("Inference request {MessageId} moved to poison: {Reason}", message.MessageId, reason);
        var body = JsonSerializer.Serialize(new { reason, message = message.MessageText, dequeueCount = message.DequeueCount });
        await QueueMessages.SendAsync(storage.Queue(StorageLayout.InferenceRequestsPoisonQueue), Encoding.UTF8.GetBytes(body), cancellationToken).ConfigureAwait(false);
    }
}
