using System.Net;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Engine;
using Pipeline.Host.Triggers;
using Pipeline.Storage;

namespace Pipeline.Host.AzureFunctions;

/// <summary>The GPU worker role's handling of one "inference-requests" message: run the sampler for the shard, write
/// its samples, then raise the completion event through <paramref name="orchestrations"/>
/// (<see cref="AzureInferenceRequestHandler"/>, over the local GPU worker's code).</summary>
public interface IInferenceRequestHandler
{
    /// <param name="dequeueCount">The delivery attempt (1 = first); the host poisons the message after its last one.</param>
    Task HandleAsync(BinaryData message, long dequeueCount, IOrchestrationClient orchestrations, CancellationToken cancellationToken);
}

/// <summary>
/// What the Functions app's triggers do, host-agnostic so CI compiles and tests it: functions/ only binds the
/// trigger and wraps Durable's client (<see cref="DurableOrchestrationClient"/>).
/// </summary>
public sealed class AzureTriggerHandlers(
    PipelineStorage storage,
    IDatasetIngestor ingestor,
    ILogger<AzureTriggerHandlers> logger,
    IInferenceRequestHandler? inference = null,
    TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>host.json's queues.maxDequeueCount: the attempt after which the host moves a message to the poison queue.</summary>
    public int MaxDequeueCount { get; init; } = 5;

    /// <summary>The orchestrator a valid request starts.</summary>
    public string OrchestratorName { get; init; } = RunActivityNames.AugmentationRun;

    /// <summary>augment-requests: an invalid request is recorded as Rejected (runs/{id}/status.json, every problem
    /// listed) and consumed; a valid one starts the orchestration with its run id (or one derived from the message
    /// id) as instance id, idempotently. A failure is rethrown so the host retries; on the last attempt the reason is
    /// recorded first, since the host then moves the message to augment-requests-poison.</summary>
    public async Task AugmentRequestAsync(byte[] body, string messageId, long dequeueCount, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(orchestrations);
        var parsed = AugmentationRequestValidator.Parse(body);
        if (!parsed.IsValid)
        {
            await RejectAsync(body, parsed.Problems.Select(p => p.ToString()).ToList(), cancellationToken).ConfigureAwait(false);
            return;
        }
        var request = parsed.Request!;
        string runId = request.RunId ?? AugmentRequestListener.RunIdForMessage(messageId); // the local listener's rule
        try
        {
            bool started = await orchestrations.ScheduleNewAsync(OrchestratorName, runId, request with { RunId = runId }, cancellationToken).ConfigureAwait(false);
            logger.LogInformation(started ? "Run {RunId} started from message {MessageId}" : "Run {RunId} already exists; message {MessageId} was a repeat", runId, messageId);
        }
        catch (Exception e) when (dequeueCount >= MaxDequeueCount && e is not OperationCanceledException)
        {
            string reason = $"moved to {StorageLayout.AugmentRequestsPoisonQueue} after {dequeueCount} failed attempts; last error: {e.GetType().Name}: {e.Message}";
            var now = _time.GetUtcNow();
            await storage.Run(runId).UpdateStatusAsync(s => s is null
                ? new RunStatus { RunId = runId, State = RunState.Failed, CreatedAt = now, UpdatedAt = now, Error = reason }
                : s with { UpdatedAt = now, Error = s.Error is null ? reason : $"{s.Error}; {reason}" }, cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A blob under datasets/{name}/: ingest the dataset. Files starting with '_' (the ingestor's own
    /// _index.json and reports) are ignored so the ingestor's output does not trigger it again.</summary>
    public async Task DatasetBlobAsync(string datasetName, string file, CancellationToken cancellationToken)
    {
        string leaf = file.Replace('\\', '/').Split('/')[^1];
        if (leaf.StartsWith('_'))
            return;
        if (!ResourceNames.IsValidName(datasetName))
        {
            logger.LogWarning("Blob datasets/{Dataset}/{File} ignored: '{Dataset}' is not a valid dataset name", datasetName, file, datasetName);
            return;
        }
        await ingestor.IngestAsync(datasetName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /api/runs/{id}: 400 for a malformed id, 404 when neither an instance nor a status blob exists,
    /// otherwise 200 with the orchestration instance and runs/{id}/status.json.</summary>
    public async Task<(HttpStatusCode Status, object Body)> GetRunAsync(string runId, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        if (!ResourceNames.IsValidRunId(runId))
            return (HttpStatusCode.BadRequest, new { error = $"'{runId}' is not a valid run id ({ResourceNames.RunIdPattern})." });
        var instance = await orchestrations.GetInstanceAsync(runId, cancellationToken).ConfigureAwait(false);
        var status = await storage.Run(runId).ReadStatusAsync(cancellationToken).ConfigureAwait(false);
        if (instance is null && status is null)
            return (HttpStatusCode.NotFound, new { error = $"No run '{runId}' exists." });
        return (HttpStatusCode.OK, new { runId, instance, status });
    }

    /// <summary>POST /api/runs/{id}/cancel: 202 once cancellation is requested (a finished run is left as it is).</summary>
    public async Task<(HttpStatusCode Status, object Body)> CancelRunAsync(string runId, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        if (!ResourceNames.IsValidRunId(runId))
            return (HttpStatusCode.BadRequest, new { error = $"'{runId}' is not a valid run id ({ResourceNames.RunIdPattern})." });
        try
        {
            await orchestrations.CancelAsync(runId, "cancelled through the HTTP API", cancellationToken).ConfigureAwait(false);
        }
        catch (OrchestrationNotFoundException)
        {
            return (HttpStatusCode.NotFound, new { error = $"No run '{runId}' exists." });
        }
        var instance = await orchestrations.GetInstanceAsync(runId, cancellationToken).ConfigureAwait(false);
        return (HttpStatusCode.Accepted, new { runId, state = instance?.State });
    }

    /// <summary>inference-requests (GPU role): hands the message to the GPU worker.</summary>
    public Task InferenceRequestAsync(byte[] body, long dequeueCount, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        if (inference is null)
            throw new InvalidOperationException($"No {nameof(IInferenceRequestHandler)} is registered: this app runs the GPU role without the GPU worker (register it in AddPipeline).");
        return inference.HandleAsync(BinaryData.FromBytes(body), dequeueCount, orchestrations, cancellationToken);
    }

    private async Task RejectAsync(byte[] body, IReadOnlyList<string> problems, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        string runId = AugmentRequestListener.RejectedRunId(body);
        var rejected = new RunStatus
        {
            RunId = runId, State = RunState.Rejected, CreatedAt = now, UpdatedAt = now,
            Error = $"The request is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}); nothing ran.",
            Problems = problems,
        };
        await storage.Run(runId).UpdateStatusAsync(s => rejected with { CreatedAt = s?.CreatedAt ?? now }, cancellationToken).ConfigureAwait(false);
        logger.LogWarning("Request rejected as {RunId}: {Problems}", runId, string.Join("; ", problems));
    }
}
