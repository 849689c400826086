using System.Net;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Orchestration;
using Pipeline.Host.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.AzureFunctions;

/// <summary>The GPU worker role's handling of one "inference-requests" message: run the sampler for the shard, write
/// its samples, then raise the completion event through <paramref name="orchestrations"/>
/// (<see cref="AzureInferenceRequestHandler"/>, over the local GPU worker's code).</summary>
public interface IInferenceRequestHandler
{
    /// <param name="message">The message body as the queue trigger delivers it (base64 or plain text).</param>
    /// <param name="dequeueCount">The delivery attempt (1 = first).</param>
    Task HandleAsync(BinaryData message, string messageId, long dequeueCount, IOrchestrationClient orchestrations, CancellationToken cancellationToken);
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

    /// <summary>host.json's queues.maxDequeueCount: the attempt after which the message moves to the poison queue.</summary>
    public int MaxDequeueCount { get; init; } = TriggerRules.DefaultMaxDequeueCount;

    /// <summary>The orchestrator a valid request starts.</summary>
    public string OrchestratorName { get; init; } = RunActivityNames.AugmentationRun;

    /// <summary>augment-requests, through the trigger core the local listener shares (<see cref="AugmentRequestTrigger"/>):
    /// an invalid request is recorded as Rejected and consumed; a valid one starts the orchestration idempotently; a
    /// failed start is rethrown so that the Functions host redelivers the message, and after the last attempt the
    /// core records why in the run's status and moves the message to augment-requests-poison itself, as the local host
    /// does (host.json's maxDequeueCount equals <see cref="MaxDequeueCount"/>, so the host never moves it first).</summary>
    /// <param name="body">The message body as the queue trigger delivers it (base64 or plain text; decoded here).</param>
    public async Task AugmentRequestAsync(BinaryData body, string messageId, long dequeueCount, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var trigger = new AugmentRequestTrigger(storage, logger, _time) { MaxDequeueCount = MaxDequeueCount, OrchestratorName = OrchestratorName };
        var outcome = await trigger.HandleAsync(QueueMessages.Decode(body.ToString()), messageId, dequeueCount, orchestrations, cancellationToken).ConfigureAwait(false);
        if (outcome.Action == QueueMessageAction.RetryLater)
            ExceptionDispatchInfo.Throw(outcome.Error!);
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
        const string reason = "cancelled through the HTTP API";
        try
        {
            await orchestrations.CancelAsync(runId, reason, cancellationToken).ConfigureAwait(false);
        }
        catch (OrchestrationNotFoundException)
        {
            return (HttpStatusCode.NotFound, new { error = $"No run '{runId}' exists." });
        }
        var instance = await orchestrations.GetInstanceAsync(runId, cancellationToken).ConfigureAwait(false);
        // a terminated orchestration runs no more code: its status.json learns it here (a run that had already
        // finished keeps its final state: DurableStatusProjection.Next)
        await DurableStatusProjection.WriteAsync(storage, new RunStatusSnapshot(runId, RunState.Cancelled, _time.GetUtcNow(), Error: reason), cancellationToken).ConfigureAwait(false);
        return (HttpStatusCode.Accepted, new { runId, state = instance?.State });
    }

    /// <summary>inference-requests (GPU role): hands the message to the GPU worker.</summary>
    /// <param name="body">The message body as the queue trigger delivers it (base64 or plain text).</param>
    public Task InferenceRequestAsync(BinaryData body, string messageId, long dequeueCount, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        if (inference is null)
            throw new InvalidOperationException($"No {nameof(IInferenceRequestHandler)} is registered: this app runs the GPU role without the GPU worker (register it in AddPipeline).");
        return inference.HandleAsync(body, messageId, dequeueCount, orchestrations, cancellationToken);
    }
}
