using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Triggers;

/// <summary>
/// The local host's queue trigger on "augment-requests" (in Azure, the AugmentRequests queue function). What happens to
/// a message is decided by <see cref="AugmentRequestTrigger"/>, the core both hosts share (rejection, idempotent start,
/// retries, the poison queue); this class only receives, deletes, or delays a message for
/// <see cref="AugmentRequestListenerOptions.RetryDelay"/> before its next attempt. Storage outages are waited out
/// with backoff.
/// </summary>
public sealed class AugmentRequestListener(
    PipelineStorage storage,
    IOrchestrationClient orchestrations,
    IOptions<AugmentRequestListenerOptions> options,
    ILogger<AugmentRequestListener> logger,
    TimeProvider? time = null) : BackgroundService
{
    private readonly AugmentRequestListenerOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly AugmentRequestTrigger _trigger = new(storage, logger, time)
    {
        MaxDequeueCount = options.Value.MaxDequeueCount,
        OrchestratorName = options.Value.OrchestratorName,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = storage.Queue(StorageLayout.AugmentRequestsQueue);
        var poison = storage.Queue(StorageLayout.AugmentRequestsPoisonQueue);
        var backoff = new ReconnectBackoff(_options.MaxReconnectDelay, logger, "augment-requests listener");
        bool queuesExist = false;
        var idle = TimeSpan.FromMilliseconds(100);
        logger.LogInformation("Listening on queue {Queue}", queue.Name);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!queuesExist)
                {
                    await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken).ConfigureAwait(false);
                    await poison.CreateIfNotExistsAsync(cancellationToken: stoppingToken).ConfigureAwait(false);
                    queuesExist = true;
                }
                var messages = (await queue.ReceiveMessagesAsync(Math.Clamp(_options.BatchSize, 1, 32), _options.VisibilityTimeout, stoppingToken).ConfigureAwait(false)).Value;
                backoff.Succeeded();
                if (messages.Length == 0)
                {
                    await Task.Delay(idle, _time, stoppingToken).ConfigureAwait(false);
                    idle = TimeSpan.FromMilliseconds(Math.Min(idle.TotalMilliseconds * 2, _options.MaxPollInterval.TotalMilliseconds));
                    continue;
                }
                idle = TimeSpan.FromMilliseconds(100);
                foreach (var message in messages)
                    await HandleAsync(queue, message, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                queuesExist = false; // an emulator restarted in memory has lost them
                try { await Task.Delay(backoff.Failed(e), _time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
            }
        }
    }

    /// <summary>Processes one message through the trigger core shared with the Functions app: deletes it when the core
    /// is done with it (started, a repeat, rejected, or moved to the poison queue), or lets it come back after
    /// <see cref="AugmentRequestListenerOptions.RetryDelay"/>.</summary>
    private async Task HandleAsync(QueueClient queue, QueueMessage message, CancellationToken cancellationToken)
    {
        var outcome = await _trigger.HandleAsync(QueueMessages.Decode(message), message.MessageId, message.DequeueCount, orchestrations, cancellationToken).ConfigureAwait(false);
        if (outcome.Action == QueueMessageAction.Consumed)
        {
            // If this delete fails (storage down), the message comes back and its start is a no-op (idempotent by run
            // id); the error goes to the receive loop, which backs off.
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
            return;
        }
        try
        {
            await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: _options.RetryDelay, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ue)
        {
            // the message reappears when its visibility timeout ends anyway
            logger.LogDebug("Could not shorten the visibility of message {MessageId}: {Error}", message.MessageId, ue.Message);
        }
    }
}
