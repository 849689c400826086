using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
/// The local host's queue trigger on "augment-requests" (in Azure, a QueueTrigger function does the same).
/// Each message is validated: a malformed or invalid request gets runs/{id}/status.json in state Rejected listing every
/// problem, and is deleted (retrying cannot fix it). A valid request starts the orchestration with the run id of the
/// message, or one derived from the message id, so a redelivered message never starts a second run. A message whose
/// processing fails is retried after <see cref="AugmentRequestListenerOptions.RetryDelay"/>; after
/// <see cref="AugmentRequestListenerOptions.MaxDequeueCount"/> attempts it moves to "augment-requests-poison" and the
/// reason is recorded in the run's status. Storage outages are waited out with backoff.
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
                    await HandleAsync(queue, poison, message, stoppingToken).ConfigureAwait(false);
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

    /// <summary>Processes one message: starts its run, rejects it, retries it later or moves it to the poison queue.</summary>
    private async Task HandleAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        byte[] body = QueueMessages.Decode(message);
        var parsed = AugmentationRequestValidator.Parse(body);
        if (!parsed.IsValid)
        {
            await RejectAsync(body, parsed.Problems, cancellationToken).ConfigureAwait(false);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
            return;
        }

        var request = parsed.Request!;
        string runId = request.RunId ?? RunIdForMessage(message.MessageId);
        try
        {
            bool started = await orchestrations.ScheduleNewAsync(_options.OrchestratorName, runId, request with { RunId = runId }, cancellationToken).ConfigureAwait(false);
            logger.LogInformation(started ? "Run {RunId} started from message {MessageId}" : "Run {RunId} already exists; message {MessageId} was a repeat",
                runId, message.MessageId);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await FailedAsync(queue, poison, message, runId, e, cancellationToken).ConfigureAwait(false);
            return;
        }
        // If this delete fails (storage down), the message comes back and its start is a no-op (idempotent by run id);
        // the error goes to the receive loop, which backs off.
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A start that failed: retried later, or moved to the poison queue at the last attempt.</summary>
    private async Task FailedAsync(QueueClient queue, QueueClient poison, QueueMessage message, string runId, Exception e, CancellationToken cancellationToken)
    {
        if (message.DequeueCount >= _options.MaxDequeueCount)
        {
            string reason = $"moved to {poison.Name} after {message.DequeueCount} failed attempts; last error: {e.GetType().Name}: {e.Message}";
            logger.LogError(e, "Run {RunId}: message {MessageId} {Reason}", runId, message.MessageId, reason);
            // status first: whoever finds the poison message also finds why it is there
            await RecordPoisonAsync(runId, reason, cancellationToken).ConfigureAwait(false);
            await poison.SendMessageAsync(message.Body.ToString(), cancellationToken).ConfigureAwait(false);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
            return;
        }
        logger.LogWarning("Run {RunId}: attempt {Attempt} of {Max} failed ({Error}); retrying in {Delay}",
            runId, message.DequeueCount, _options.MaxDequeueCount, e.Message, _options.RetryDelay);
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

    private async Task RejectAsync(byte[] body, IReadOnlyList<ValidationProblem> problems, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var rejected = new RunStatus
        {
            RunId = RejectedRunId(body), State = RunState.Rejected, CreatedAt = now, UpdatedAt = now,
            Error = $"The request is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}); nothing ran.",
            Problems = problems.Select(p => p.ToString()).ToList(),
        };
        // A message that names a run id gets its rejection there, unless that id belongs to a run that exists.
        string? claimed = ClaimedRunId(body);
        if (claimed is not null)
        {
            var written = await storage.Run(claimed).UpdateStatusAsync(s => s is null || s.State == RunState.Rejected ? rejected with { RunId = claimed, CreatedAt = s?.CreatedAt ?? now } : null,
                cancellationToken).ConfigureAwait(false);
            if (written is { State: RunState.Rejected })
            {
                logger.LogWarning("Run {RunId} rejected: {Problems}", claimed, string.Join("; ", rejected.Problems));
                return;
            }
        }
        await storage.Run(rejected.RunId).UpdateStatusAsync(s => rejected with { CreatedAt = s?.CreatedAt ?? now }, cancellationToken).ConfigureAwait(false);
        logger.LogWarning("Request rejected as {RunId}: {Problems}", rejected.RunId, string.Join("; ", rejected.Problems));
    }

    private async Task RecordPoisonAsync(string runId, string reason, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await storage.Run(runId).UpdateStatusAsync(s => s switch
        {
            null => new RunStatus { RunId = runId, State = RunState.Failed, CreatedAt = now, UpdatedAt = now, Error = reason },
            // the engine got far enough to record the run: keep its state, only add why the trigger gave up
            { State: RunState.Pending } => s with { State = RunState.Failed, UpdatedAt = now, Error = reason },
            _ => s.Error == reason ? null : s with { UpdatedAt = now, Error = s.Error is null ? reason : $"{s.Error}; {reason}" },
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The run id of a request without one: derived from the queue message id, so every delivery of the same
    /// message maps to the same run (the start is idempotent).</summary>
    public static string RunIdForMessage(string messageId) =>
        "run-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(messageId)))[..16];

    /// <summary>Where an unreadable message's rejection is recorded: derived from its content, so the same bad message
    /// always lands on the same status blob.</summary>
    public static string RejectedRunId(byte[] body) => "rejected-" + Convert.ToHexStringLower(SHA256.HashData(body))[..16];

    /// <summary>The message's runId when it is readable and valid as a run id.</summary>
    private static string? ClaimedRunId(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                   && doc.RootElement.TryGetProperty("runId", out var id) && id.ValueKind == JsonValueKind.String
                   && ResourceNames.IsValidRunId(id.GetString())
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
