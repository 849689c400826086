using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;

namespace Pipeline.Core.Runs;

/// <summary>Tuning of the run orchestration (passed in by the host's registration; never read from the environment
/// inside the orchestrator).</summary>
public sealed record AugmentationRunOptions
{
    /// <summary>Shards per AugmentShardGroup sub-orchestration: bounds the parent's and each child's history.</summary>
    public int ShardsPerGroup { get; init; } = 16;
    /// <summary>How long to wait for the GPU worker before re-enqueueing a shard.</summary>
    public TimeSpan InferenceTimeout { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>How many times a shard is enqueued before its items are failed.</summary>
    public int InferenceAttempts { get; init; } = 3;
    public RetryPolicy ActivityRetry { get; init; } = new(3, TimeSpan.FromSeconds(2), 2.0, TimeSpan.FromSeconds(30));
}

/// <summary>
/// One augmentation run: Plan, then per shard Preprocess -> Infer -> Compose -> Measure (grouped into
/// sub-orchestrations), then Aggregate and Report. Deterministic: only the context is used; payloads are blob references.
/// Items that fail are recorded by the activities and skipped; a shard whose stage fails after retries has all its
/// remaining items recorded as failed, and the run goes on.
/// </summary>
public sealed class AugmentationRunOrchestrator(AugmentationRunOptions options) : IOrchestrator
{
    public string Name => RunActivityNames.AugmentationRun;

    public async Task<object?> RunAsync(IRunContext context)
    {
        var request = context.GetInput<AugmentationRequest>();
        string runId = context.InstanceId;
        var retry = options.ActivityRetry;

        context.SetCustomStatus(new { stage = "plan" });
        var plan = await context.CallActivityAsync<PlanOutcome>(RunActivityNames.Plan, new PlanInput(runId, request), retry);
        if (plan.Problems.Count > 0)
            return new RunSummary { RunId = runId, State = RunState.Rejected, Problems = plan.Problems };

        var progress = new { total = plan.ItemCount, completed = 0, failed = 0 };
        if (request.DryRun)
        {
            context.SetCustomStatus(new { stage = "estimate", progress });
            var estimate = await context.CallActivityAsync<EstimateOutcome>(RunActivityNames.Estimate, new RunStageInput(runId, plan.Shards.Count), retry);
            return new RunSummary { RunId = runId, State = RunState.Completed, Planned = plan.ItemCount, Estimate = estimate, Problems = plan.Shortfalls };
        }

        context.SetCustomStatus(new { stage = "generate", progress });
        var groups = plan.Shards.Chunk(Math.Max(1, options.ShardsPerGroup)).ToList();
        var groupTasks = groups.Select((g, i) => context.CallSubOrchestratorAsync<ShardGroupResult>(
            RunActivityNames.AugmentShardGroup, $"{runId}-g{i:D4}",
            new ShardGroupInput(runId, g, options.InferenceTimeout, options.InferenceAttempts))).ToList();
        // Await in index order (deterministic on replay) and report progress as groups finish.
        int completed = 0, failed = 0;
        foreach (var task in groupTasks)
        {
            var group = await task;
            completed += group.Shards.Sum(s => s.Succeeded);
            failed += group.Shards.Sum(s => s.Failed);
            context.SetCustomStatus(new { stage = "generate", progress = new { total = plan.ItemCount, completed, failed } });
        }

        context.SetCustomStatus(new { stage = "aggregate", progress });
        var totals = await context.CallActivityAsync<AggregateOutcome>(RunActivityNames.Aggregate, new RunStageInput(runId, plan.Shards.Count), retry);
        context.SetCustomStatus(new
        {
            stage = "report",
            progress = new { total = plan.ItemCount, completed = totals.Succeeded + totals.Flagged + totals.Dropped, failed = totals.Failed },
        });
        var report = await context.CallActivityAsync<ReportOutcome>(RunActivityNames.Report, new RunStageInput(runId, plan.Shards.Count), retry);

        int made = totals.Succeeded + totals.Flagged + totals.Dropped;
        var state = made == 0 ? RunState.Failed : totals.Failed > 0 ? RunState.CompletedWithFailures : RunState.Completed;
        return new RunSummary
        {
            RunId = runId, State = state, Planned = plan.ItemCount,
            Succeeded = totals.Succeeded, Flagged = totals.Flagged, Dropped = totals.Dropped, Failed = totals.Failed,
            Problems = plan.Shortfalls, Report = report,
        };
    }
}

/// <summary>
/// A bounded group of shards, each through Preprocess -> Infer (GPU worker via queue + external event, re-enqueued on
/// timeout) -> Compose -> Measure. Shards of a group run concurrently; the engine bounds activity concurrency.
/// </summary>
public sealed class AugmentShardGroupOrchestrator(AugmentationRunOptions options) : IOrchestrator
{
    public string Name => RunActivityNames.AugmentShardGroup;

    public async Task<object?> RunAsync(IRunContext context)
    {
        var input = context.GetInput<ShardGroupInput>();
        var results = await Task.WhenAll(input.Shards.Select(s => RunShardAsync(context, input, s)));
        return new ShardGroupResult(results);
    }

    private async Task<ShardStageResult> RunShardAsync(IRunContext context, ShardGroupInput input, ShardRef shard)
    {
        var retry = options.ActivityRetry;
        var stage = new ShardStageInput(input.RunId, shard);
        string step = RunActivityNames.Preprocess;
        try
        {
            await context.CallActivityAsync<ShardStageResult>(RunActivityNames.Preprocess, stage, retry);

            step = "Infer";
            InferenceDone? done = null;
            for (int attempt = 1; attempt <= Math.Max(1, input.InferenceAttempts) && done is null; attempt++)
            {
                await context.CallActivityAsync<bool>(RunActivityNames.RequestInference, new InferenceRequestInput(input.RunId, context.InstanceId, shard, attempt), retry);
                try
                {
                    done = await context.WaitForExternalEventAsync<InferenceDone>(RunActivityNames.InferenceDoneEvent(shard.Index), input.InferenceTimeout);
                }
                catch (TimeoutException) when (attempt < input.InferenceAttempts)
                {
                    // the worker died or the message was lost: enqueue again (the worker's writes are idempotent)
                }
            }
            if (done?.Error is { } workerError) throw new InvalidOperationException($"inference failed: {workerError}");

            step = RunActivityNames.Compose;
            await context.CallActivityAsync<ShardStageResult>(RunActivityNames.Compose, stage, retry);
            step = RunActivityNames.Measure;
            return await context.CallActivityAsync<ShardStageResult>(RunActivityNames.Measure, stage, retry);
        }
        catch (Exception e) when (e is ActivityFailedException or TimeoutException or InvalidOperationException)
        {
            // Record every item of the shard that has no result yet as failed, with the reason; the run goes on.
            string reason = e is TimeoutException
                ? $"{step}: no result from the GPU worker after {input.InferenceAttempts} attempts of {input.InferenceTimeout}"
                : $"{step}: {e.Message}";
            return await context.CallActivityAsync<ShardStageResult>(RunActivityNames.RecordShardFailure, stage with { Reason = reason }, retry);
        }
    }
}
