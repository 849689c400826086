using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Storage;

namespace Pipeline.Host.AzureFunctions;

/// <summary>A run's state as the orchestration knows it at one point of its (replay-safe) time.</summary>
/// <param name="At">The orchestration's CurrentUtcDateTime when the state was taken: orders snapshots.</param>
public sealed record RunStatusSnapshot(string RunId, RunState State, DateTimeOffset At, JsonElement? CustomStatus = null, string? Error = null);

/// <summary>
/// Keeps runs/{id}/status.json current for runs on Azure's durable engine, as the local engine does for its runs, so
/// that <c>pipeline status</c> and <c>runs list</c> see both. <see cref="DurableRunContext"/> projects a top-level
/// orchestration when it starts, at each change of its custom status and when it ends, through the activity
/// <see cref="ActivityName"/> (orchestrations do no I/O themselves); the run API's cancel projects Cancelled.
/// <see cref="Next"/> is the rule: a snapshot older than the stored status is ignored, and a finished run is never
/// set back to a running state (activities may complete out of order).
/// </summary>
public static class DurableStatusProjection
{
    public const string ActivityName = "ProjectRunStatus";

    /// <summary>The status to store given the stored one and a snapshot; null to keep the stored one.</summary>
    public static RunStatus? Next(RunStatus? current, RunStatusSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (current is not null && (current.UpdatedAt > snapshot.At || IsFinal(current.State) && !IsFinal(snapshot.State)))
            return null;
        var custom = snapshot.CustomStatus ?? current?.CustomStatus;
        var typed = RunCustomStatus.TryRead(custom);
        return new RunStatus
        {
            RunId = snapshot.RunId,
            State = snapshot.State,
            CreatedAt = current?.CreatedAt ?? snapshot.At,
            UpdatedAt = snapshot.At,
            Stage = typed?.Stage ?? current?.Stage,
            Progress = typed?.Progress ?? current?.Progress,
            CustomStatus = custom,
            Error = snapshot.Error,
            Problems = current?.Problems ?? [],
        };
    }

    /// <summary>Writes a snapshot under the rule of <see cref="Next"/> (an ETag-guarded read-modify-write).</summary>
    public static Task<RunStatus?> WriteAsync(PipelineStorage storage, RunStatusSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storage);
        return storage.Run(snapshot.RunId).UpdateStatusAsync(s => Next(s, snapshot), cancellationToken);
    }

    private static bool IsFinal(RunState s) => s is RunState.Completed or RunState.CompletedWithFailures or RunState.Failed or RunState.Cancelled or RunState.Rejected;
}

/// <summary>The activity that writes a <see cref="RunStatusSnapshot"/> (registered by AddAzureFunctionsHost).</summary>
public sealed class ProjectRunStatusActivity(PipelineStorage storage) : Activity<RunStatusSnapshot, bool>
{
    public override string Name => DurableStatusProjection.ActivityName;

    public override async Task<bool> RunAsync(RunStatusSnapshot input, CancellationToken cancellationToken)
    {
        var written = await DurableStatusProjection.WriteAsync(storage, input, cancellationToken).ConfigureAwait(false);
        return written is not null && written.UpdatedAt == input.At;
    }
}
