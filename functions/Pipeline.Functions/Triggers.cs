using System.Net;
using Azure.Storage.Blobs;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;
using Pipeline.Core.Contracts;
using Pipeline.Host.AzureFunctions;
using Pipeline.Storage;

namespace Pipeline.Functions;

/// <summary>The control role's triggers. Each hands over to src/ (Pipeline.Host.AzureFunctions.AzureTriggerHandlers) with the
/// Durable client wrapped as the project's IOrchestrationClient.</summary>
public sealed class Triggers(AzureTriggerHandlers handlers)
{
    /// <summary>queue augment-requests -> the trigger core shared with the local host: validate, then schedule
    /// AugmentationRun with the run id as instance id (idempotent); a failure is rethrown so the host redelivers it,
    /// and on the last attempt (host.json maxDequeueCount) the core records why and moves it to the poison queue.</summary>
    [Function(FunctionNames.AugmentRequests)]
    public Task AugmentRequests(
        [QueueTrigger(StorageLayout.AugmentRequestsQueue)] QueueMessage message,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
        => handlers.AugmentRequestAsync(message.Body, message.MessageId, message.DequeueCount, DurableTaskClientOperations.For(client), cancellationToken);

    /// <summary>blob datasets/{name}/{file} -> ingest the dataset (the ingestor's own _index.json and other
    /// underscore files are ignored, so its output does not trigger it again). Bound as a BlobClient (deferred
    /// binding): the ingestor reads the dataset itself, so the blob's content is never downloaded here.</summary>
    [Function(FunctionNames.DatasetBlobCreated)]
    public Task DatasetBlobCreated(
        [BlobTrigger(StorageLayout.DatasetsContainer + "/{name}/{file}")] BlobClient blob,
        string name,
        string file,
        CancellationToken cancellationToken)
        => handlers.DatasetBlobAsync(name, file, cancellationToken);

    /// <summary>GET /api/runs/{id}: the Durable instance state merged with runs/{id}/status.json.</summary>
    [Function(FunctionNames.GetRun)]
    public async Task<HttpResponseData> GetRun(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs/{id}")] HttpRequestData request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var (status, body) = await handlers.GetRunAsync(id, DurableTaskClientOperations.For(client), cancellationToken);
        return await Json(request, status, body);
    }

    /// <summary>POST /api/runs/{id}/cancel: terminates the instance (and its sub-orchestrations).</summary>
    [Function(FunctionNames.CancelRun)]
    public async Task<HttpResponseData> CancelRun(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{id}/cancel")] HttpRequestData request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var (status, body) = await handlers.CancelRunAsync(id, DurableTaskClientOperations.For(client), cancellationToken);
        return await Json(request, status, body);
    }

    private static async Task<HttpResponseData> Json(HttpRequestData request, HttpStatusCode status, object body)
    {
        var response = request.CreateResponse();
        await response.WriteAsJsonAsync(body);
        response.StatusCode = status; // WriteAsJsonAsync sets 200; Worker.Core 2.x has no overload taking a status
        return response;
    }
}

/// <summary>The GPU role's trigger: queue inference-requests -> run the diffusion sampler for one shard, then raise
/// the completion event on the waiting orchestration in the control app's task hub.</summary>
public sealed class GpuWorker(AzureTriggerHandlers handlers)
{
    [Function(FunctionNames.InferenceRequests)]
    public Task InferenceRequests(
        [QueueTrigger(StorageLayout.InferenceRequestsQueue)] QueueMessage message,
        [DurableClient(TaskHub = "%PIPELINE_CONTROL_TASK_HUB%")] DurableTaskClient client,
        CancellationToken cancellationToken)
        => handlers.InferenceRequestAsync(message.Body, message.MessageId, message.DequeueCount, DurableTaskClientOperations.For(client), cancellationToken);
}
