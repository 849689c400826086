using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Storage;

namespace Pipeline.Host.Triggers;

/// <summary>
/// The decisions of the two queue triggers, written once for both hosts (the local listeners in this folder and the
/// Functions app's handlers in Pipeline.Host.AzureFunctions go through <see cref="AugmentRequestTrigger"/> and
/// <see cref="InferenceRequestTrigger"/>, which apply these). Pure: no I/O, no clock; time comes in as an argument.
/// Delivery counting follows the Functions queue trigger (host.json queues.maxDequeueCount): attempt n of a message
/// has dequeue count n; a failure at attempt <c>maxDequeueCount</c> is the last one, after which the message moves
/// to "{queue}-poison"; a message delivered more often than that (a process died while it was being handled) is moved
/// without being handled again.
/// </summary>
public static class TriggerRules
{
    /// <summary>Functions' default maxDequeueCount, and host.json's.</summary>
    public const int DefaultMaxDequeueCount = 5;

    /// <summary>Whether a failure at delivery <paramref name="dequeueCount"/> is the last attempt.</summary>
    public static bool IsLastAttempt(long dequeueCount, int maxDequeueCount) => dequeueCount >= maxDequeueCount;

    /// <summary>Whether a message arrives after its last attempt already ran (it goes to poison unhandled).</summary>
    public static bool IsBeyondLastAttempt(long dequeueCount, int maxDequeueCount) => dequeueCount > maxDequeueCount;

    /// <summary>The run id of a request without one: derived from the queue message id, so every delivery of the same
    /// message maps to the same run (the start is idempotent).</summary>
    public static string RunIdForMessage(string messageId) =>
        "run-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(messageId)))[..16];

    /// <summary>Where a rejection is recorded when the message names no usable run id: derived from its content, so
    /// the same bad message always lands on the same status blob.</summary>
    public static string RejectedRunId(ReadOnlySpan<byte> body) => "rejected-" + Convert.ToHexStringLower(SHA256.HashData(body))[..16];

    /// <summary>The message's runId when it is readable JSON and a valid run id (even if the request is invalid).</summary>
    public static string? ClaimedRunId(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
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

    /// <summary>The Rejected status of an invalid request, listing every problem.</summary>
    public static RunStatus Rejected(string runId, IReadOnlyList<string> problems, DateTimeOffset now) => new()
    {
        RunId = runId, State = RunState.Rejected, CreatedAt = now, UpdatedAt = now,
        Error = $"The request is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}); nothing ran.",
        Problems = problems,
    };

    /// <summary>The update of the claimed run's status.json: the rejection is written there unless that id belongs to
    /// a run that exists (null = leave it; the rejection then goes to <see cref="RejectedRunId"/>).</summary>
    public static RunStatus? RejectAtClaimedId(RunStatus? current, RunStatus rejected) =>
        current is null || current.State == RunState.Rejected ? rejected with { CreatedAt = current?.CreatedAt ?? rejected.CreatedAt } : null;

    /// <summary>The update of the content-named rejection's status.json (always written; the first time is kept).</summary>
    public static RunStatus RejectAtContentId(RunStatus? current, RunStatus rejected) =>
        rejected with { CreatedAt = current?.CreatedAt ?? rejected.CreatedAt };

    /// <summary>Why a message went to the poison queue, for the run's status and the log.</summary>
    public static string PoisonReason(string queue, long dequeueCount, Exception? lastError) =>
        lastError is null
            ? $"moved to {StorageLayout.PoisonQueueOf(queue)} after {dequeueCount - 1} attempts (delivered again after its last attempt)"
            : $"moved to {StorageLayout.PoisonQueueOf(queue)} after {dequeueCount} failed attempts; last error: {lastError.GetType().Name}: {lastError.Message}";

    /// <summary>The run's status after its request was poisoned: a run that never got further than Pending (or has no
    /// status) is Failed with the reason; one the engine is running keeps its state and gains the reason.</summary>
    public static RunStatus? Poisoned(RunStatus? current, string runId, string reason, DateTimeOffset now) => current switch
    {
        null => new RunStatus { RunId = runId, State = RunState.Failed, CreatedAt = now, UpdatedAt = now, Error = reason },
        { State: RunState.Pending } => current with { State = RunState.Failed, UpdatedAt = now, Error = reason },
        _ when current.Error is not null && current.Error.Contains(reason, StringComparison.Ordinal) => null,
        _ => current with { UpdatedAt = now, Error = current.Error is null ? reason : $"{current.Error}; {reason}" },
    };

    /// <summary>An inference request, or why it cannot be read. A malformed message goes to inference-requests-poison
    /// at once on both hosts: retrying cannot fix it, and no orchestration can be told (its instance is unknown).</summary>
    public static (InferenceRequestMessage? Request, string? Problem) ReadInferenceRequest(ReadOnlySpan<byte> body)
    {
        InferenceRequestMessage request;
        try
        {
            request = PipelineJson.Deserialize<InferenceRequestMessage>(body, "inference request");
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidDataException)
        {
            return (null, e.Message);
        }
        string? problem =
            !ResourceNames.IsValidRunId(request.RunId) ? $"inference request: runId '{request.RunId}' is not a valid run id"
            : string.IsNullOrEmpty(request.InstanceId) ? "inference request: instanceId is missing"
            : request.ShardIndex < 0 ? $"inference request: shardIndex {request.ShardIndex} is negative"
            : string.IsNullOrEmpty(request.ShardBlob) ? "inference request: shardBlob is missing"
            : null;
        return problem is null ? (request, null) : (null, problem);
    }

    /// <summary>The completion event for a shard whose last attempt failed: the orchestration counts it as failed
    /// rather than waiting for its inference timeout.</summary>
    public static InferenceDone ShardGaveUp(InferenceRequestMessage request, long dequeueCount, Exception? lastError) =>
        new(request.ShardIndex, 0, 0, lastError is null
            ? $"shard {request.ShardIndex} of run {request.RunId} was delivered {dequeueCount} times without finishing"
            : $"shard {request.ShardIndex} of run {request.RunId} failed {dequeueCount} times: {lastError.Message}");
}
