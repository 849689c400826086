using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using DurableTask.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// Writes a top-level instance's state, as the framework committed it, to {StatusContainerName}/{id}/status.json:
/// the document <c>pipeline status</c> and <c>runs list</c> read. It is a projection, never the source of truth: the
/// framework's Instances table is. A write happens after each committed step whose state or custom status changed;
/// an older state never overwrites a newer one (compared by the framework's last-updated time, under the blob's
/// ETag); a failed write is retried in the background, and the next step writes the state again anyway.
/// </summary>
public sealed class RunStatusProjection
{
    private readonly BlobContainerClient _container;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, string> _lastWritten = new(StringComparer.Ordinal);

    public RunStatusProjection(TaskHubOptions options, ILogger<RunStatusProjection>? logger = null)
    {
        _container = new BlobContainerClient(options.ConnectionString, options.StatusContainerName);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public Task CreateContainerAsync(CancellationToken cancellationToken) => _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    /// <summary>The status document of a committed runtime state; null for a sub-orchestration (its state is in the
    /// framework's tables, under its parent's run).</summary>
    public static RunStatus? FromRuntimeState(OrchestrationRuntimeState state)
    {
        if (state.ExecutionStartedEvent is null || state.ParentInstance is not null) return null;
        var (runState, error) = TaskHubOrchestrationClient.ToRunState(state.OrchestrationStatus, state.Output, state.FailureDetails);
        var customStatus = TaskHubOrchestrationClient.Parse(state.Status);
        var run = RunCustomStatus.TryRead(customStatus);
        return new RunStatus
        {
            RunId = state.OrchestrationInstance!.InstanceId,
            State = runState,
            CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(state.CreatedTime, DateTimeKind.Utc)),
            UpdatedAt = DateTimeOffset.UtcNow,
            Stage = run?.Stage,
            Progress = run?.Progress,
            CustomStatus = customStatus,
            Error = error,
        };
    }

    /// <summary>Projects a committed state (a no-op when neither its state nor its custom status changed since this
    /// process last wrote it). Never throws: a failed write is retried in the background.</summary>
    public void Project(OrchestrationRuntimeState state)
    {
        RunStatus? status;
        try { status = FromRuntimeState(state); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            _logger.LogWarning(e, "Status of instance {InstanceId} could not be read", state.OrchestrationInstance?.InstanceId);
            return;
        }
        if (status is null) return;
        string key = $"{status.State}|{status.CustomStatus?.GetRawText()}|{status.Error}";
        if (_lastWritten.TryGetValue(status.RunId, out var last) && last == key) return;
        _lastWritten[status.RunId] = key;
        _ = WriteWithRetriesAsync(status);
    }

    private async Task WriteWithRetriesAsync(RunStatus status)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await WriteAsync(status, CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (attempt < 8 && e is RequestFailedException or IOException or HttpRequestException or OperationCanceledException)
            {
                await Task.Delay(delay).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(15).Ticks));
            }
            catch (Exception e)
            {
                _lastWritten.TryRemove(status.RunId, out _); // the next committed step writes it again
                _logger.LogWarning(e, "Writing the status of run {RunId} failed", status.RunId);
                return;
            }
        }
    }

    /// <summary>Writes <paramref name="status"/> unless the stored document is newer (ETag-guarded read-modify-write).
    /// The stored CreatedAt and Problems are kept.</summary>
    public async Task WriteAsync(RunStatus status, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient($"{status.RunId}/status.json");
        for (int attempt = 0; attempt < 20; attempt++)
        {
            RunStatus? current = null;
            ETag? etag = null;
            try
            {
                var download = await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
                current = PipelineJson.Deserialize<RunStatus>(download.Value.Content.ToArray(), "run status");
                etag = download.Value.Details.ETag;
            }
            catch (RequestFailedException e) when (e.Status == 404) { }
            catch (Exception e) when (e is JsonException or InvalidDataException or FormatException) { etag = ETag.All; } // unreadable: replace it
            // a stored state is replaced only by a newer one; Pending (written at scheduling) never replaces a state the
            // worker wrote, and a final state is never replaced by a running one
            if (current is not null && (current.UpdatedAt > status.UpdatedAt || status.State == RunState.Pending
                                        || IsFinal(current.State) && !IsFinal(status.State))) return;
            var next = current is null ? status : status with { CreatedAt = current.CreatedAt, Problems = current.Problems };
            var conditions = etag is { } e2 && e2 != ETag.All ? new BlobRequestConditions { IfMatch = e2 }
                : etag is null ? new BlobRequestConditions { IfNoneMatch = ETag.All } : null;
            try
            {
                await blob.UploadAsync(new BinaryData(PipelineJson.SerializeToUtf8Bytes(next)), new BlobUploadOptions
                {
                    Conditions = conditions,
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                }, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412) { } // written meanwhile: read it again
            catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode == "ContainerNotFound")
            {
                await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static bool IsFinal(RunState s) => s is RunState.Completed or RunState.CompletedWithFailures or RunState.Failed or RunState.Cancelled or RunState.Rejected;
}
