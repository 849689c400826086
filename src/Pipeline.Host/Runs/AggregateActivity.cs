using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Runs.Metrics;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>
/// Aggregate: counts the items' final outcomes (runs/{id}/items/*.json) and writes runs/{id}/aggregate.json; computes
/// FD[name] / KID[name] over the items' patch features for the run, each class and each task, with what was skipped,
/// into runs/{id}/metrics/set-metrics.json (<see cref="FeatureMetrics.ComputeSets"/>).
/// </summary>
public sealed class AggregateActivity(PipelineStorage storage, RunFeatureNetworks networks) : Activity<RunStageInput, AggregateOutcome>
{
    public override string Name => RunActivityNames.Aggregate;

    public override async Task<AggregateOutcome> RunAsync(RunStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        var results = await RunResults.ReadItemsAsync(run, cancellationToken).ConfigureAwait(false);
        var outcome = new AggregateOutcome(
            results.Count(r => r.Outcome == ItemOutcome.Succeeded), results.Count(r => r.Outcome == ItemOutcome.Flagged),
            results.Count(r => r.Outcome == ItemOutcome.Dropped), results.Count(r => r.Outcome == ItemOutcome.Failed));
        if (await run.ReadJsonAsync<RunSetMetrics>(MetricsBlobs.SetMetrics, cancellationToken).ConfigureAwait(false) is null)
        {
            var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
            var selection = RunMetricSelection.Resolve(plan.Request.Metrics, networks);
            var records = await RunResults.ReadFeatureRecordsAsync(run, results, cancellationToken).ConfigureAwait(false);
            var sets = FeatureMetrics.ComputeSets(records, selection, networks.Options, (int)(plan.Request.Seed & 0x7fffffff));
            await run.WriteJsonIfAbsentAsync(MetricsBlobs.SetMetrics, sets, cancellationToken).ConfigureAwait(false);
        }
        await run.WriteJsonIfAbsentAsync(RunBlobs.Aggregate, outcome, cancellationToken).ConfigureAwait(false);
        return outcome;
    }
}
