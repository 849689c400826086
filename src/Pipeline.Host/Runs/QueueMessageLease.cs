using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;

namespace Pipeline.Host.Runs;

/// <summary>
/// Holds a received queue message invisible while it is worked on, as the Functions queue listener does: its
/// visibility is extended to <c>visibilityTimeout</c> every <c>renewInterval</c> until <see cref="DeleteAsync"/> or
/// disposal. A process that dies stops renewing, so the message is visible to other workers again within
/// <c>visibilityTimeout</c>. Disposing without deleting leaves the message to reappear when its visibility ends.
/// Each renewal changes the pop receipt; the current one is used for the next renewal and the delete.
/// </summary>
public sealed class QueueMessageLease : IAsyncDisposable
{
    private readonly QueueClient _queue;
    private readonly string _messageId;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewing;
    private string _popReceipt;

    public QueueMessageLease(QueueClient queue, QueueMessage message, TimeSpan visibilityTimeout, TimeSpan renewInterval, ILogger logger)
    {
        if (renewInterval <= TimeSpan.Zero || renewInterval >= visibilityTimeout)
            throw new ArgumentException($"The renew interval ({renewInterval}) must be positive and shorter than the visibility timeout ({visibilityTimeout}).");
        _queue = queue;
        _messageId = message.MessageId;
        _popReceipt = message.PopReceipt;
        _renewing = RenewAsync(visibilityTimeout, renewInterval, logger, _stop.Token);
    }

    /// <summary>How many times the visibility was extended.</summary>
    public int Renewals { get; private set; }

    private async Task RenewAsync(TimeSpan visibilityTimeout, TimeSpan renewInterval, ILogger logger, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try { await Task.Delay(renewInterval, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            try
            {
                // not cancelled midway: a renewal that landed changes the pop receipt, which the delete needs
                var receipt = await _queue.UpdateMessageAsync(_messageId, _popReceipt, visibilityTimeout: visibilityTimeout, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                _popReceipt = receipt.Value.PopReceipt;
                Renewals++;
            }
            catch (Exception e) when (e is RequestFailedException or HttpRequestException or IOException)
            {
                // storage unreachable: try again at the next interval (the message may become visible meanwhile, in
                // which case another worker may take it: the work is idempotent)
                logger.LogWarning("Extending the visibility of queue message {MessageId} failed: {Error}", _messageId, e.Message);
            }
        }
    }

    /// <summary>Stops renewing and deletes the message (its work is done).</summary>
    public async Task DeleteAsync(CancellationToken cancellationToken)
    {
        await StopRenewingAsync().ConfigureAwait(false);
        await _queue.DeleteMessageAsync(_messageId, _popReceipt, cancellationToken).ConfigureAwait(false);
    }

    private async Task StopRenewingAsync()
    {
        if (!_stop.IsCancellationRequested) _stop.Cancel();
        await _renewing.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopRenewingAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
