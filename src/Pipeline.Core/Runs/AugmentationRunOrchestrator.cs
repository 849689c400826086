using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;

namespace Pipeline.Core.Runs;

/// <summary>
/// One augmentation run: Plan, then per shard Preprocess -> Infer -> Compose -> Measure (grouped into
/// sub-orchestrations), then Aggregate and Report. Deterministic: only the context is used; payloads are blob references.
/// Items that fail are recorded by the activities and skipped; a shard whose stage fails after retries has all its
/// remaining items recorded as failed, and the run goes on.
/// </summary>
public sealed class AugmentationRunOrchestrator(IOptions<AugmentationRunOptions> runOptions) : IOrchestrator
{
    private readonly AugmentationRunOptions options = runOptions.Value;

    public string Name => RunActivityNames.AugmentationRun;

    public async Task<object?> RunAsync(IRunContext context)
    {
        var request = context.GetInput<AugmentationRequest>();
        string runId = context.InstanceId;
        var retry = options.ActivityRetry.ToPolicy();

        context.SetCustomStatus(new RunCustomStatus(RunStages.Plan));
        var plan = await context.CallActivityAsync<PlanOutcome>(RunActivityNames.Plan, new PlanInput(runId, request), retry);
        if (plan.Problems.Count > 0)
            return new RunSummary { RunId = runId, State = RunState.Rejected, Problems = plan.Problems };

        var progress = new RunProgress(plan.ItemCount, 0, 0);
        if (request.DryRun)
        {
            context.SetCustomStatus(new RunCustomStatus(RunStages.Estimate, progress));
            var estimate = await context.CallActivityAsync<EstimateOutcome>(RunActivityNames.Estimate, new RunStageInput(runId, plan.Shards.Count), retry);
            return new RunSummary { RunId = runId, State = RunState.Completed, Planned = plan.ItemCount, Estimate = estimate, Problems = plan.Shortfalls };
        }

        context.SetCustomStatus(new RunCustomStatus(RunStages.Generate, progress));
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
            context.SetCustomStatus(new RunCustomStatus(RunStages.Generate, new RunProgress(plan.ItemCount, completed, failed)));
        }

        context.SetCustomStatus(new RunCustomStatus(RunStages.Aggregate, progress));
        var totals = await context.CallActivityAsync<AggregateOutcome>(RunActivityNames.Aggregate, new RunStageInput(runId, plan.Shards.Count), retry);
        context.SetCustomStatus(new RunCustomStatus(RunStages.Report,
            new RunProgress(plan.ItemCount, totals.Succeeded + totals.Flagged + totals.Dropped, totals.Failed)));
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
