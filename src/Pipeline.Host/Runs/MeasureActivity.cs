using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Runs.Metrics;
using Pipeline.Metrics.Gate;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>
/// Measure: per item, the run's domain measures the generated sample against the prepared inputs
/// (<see cref="IItemMeasurer"/>; for mammography SSIM, PSNR and MAE on the patch around the object, inside and outside
/// the box). With feature networks configured (Pipeline:Metrics) and requested, also LPIPS[name] on the domain's
/// patches, the embedding similarity CLIP-I[name] / DINOv2[name] of the generated box region to the reference crop, and
/// the patch features for FD/KID (runs/{id}/features/{item}.json; see <see cref="FeatureMetrics"/>).
/// Applies the realism gate and writes runs/{id}/items/{item}.json (the item's final <see cref="ItemResult"/>).
/// </summary>
public sealed class MeasureActivity(PipelineStorage storage, RunFeatureNetworks networks, RunDomains domains) : Activity<ShardStageInput, ShardStageResult>
{
    public override string Name => RunActivityNames.Measure;

    public override async Task<ShardStageResult> RunAsync(ShardStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        var shard = await ShardDocuments.ReadPlanAsync(run, input.Shard, cancellationToken).ConfigureAwait(false);
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var compose = await ShardDocuments.RequireManifestAsync(run, RunBlobs.ComposeShard(input.Shard.Index), cancellationToken).ConfigureAwait(false);
        var gate = plan.Request.RealismGate;
        bool drop = plan.Request.Output?.DropFlagged ?? false;
        var selection = RunMetricSelection.Resolve(plan.Request.Metrics, networks);
        var measurer = domains.For(plan.Domain).Measurer;
        int ok = 0, failed = 0;
        foreach (var item in shard.Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A replay after a crash keeps what was measured: learned metrics need not be bit-reproducible across
            // processes, and write-if-absent would reject a differing second value.
            if (await run.ReadJsonAsync<ItemResult>(RunBlobs.ItemResult(item.ItemId), cancellationToken).ConfigureAwait(false) is { } recorded)
            {
                if (recorded.Value.Outcome == ItemOutcome.Failed) failed++; else ok++;
                continue;
            }
            var c = compose.Find(item.ItemId);
            ItemResult result;
            if (c is null || c.Error is not null)
                result = new ItemResult { ItemId = item.ItemId, Outcome = ItemOutcome.Failed, Error = c?.Error ?? "compose: no result" };
            else
            {
                try
                {
                    var prep = TensorBundle.Parse((await run.ReadAsync(RunBlobs.PrepTensors(item.ItemId), cancellationToken).ConfigureAwait(false))!.ToArray(), item.ItemId);
                    var gen = TensorBundle.Parse((await run.ReadAsync(RunBlobs.GenTensors(item.ItemId), cancellationToken).ConfigureAwait(false))!.ToArray(), item.ItemId);
                    var geometry = c.Geometry ?? throw new InvalidDataException($"{item.ItemId}: the compose manifest has no crop geometry");
                    var measured = measurer.Measure(item, prep, gen, geometry);
                    var metrics = new SortedDictionary<string, double>(measured.Metrics.ToDictionary(), StringComparer.Ordinal);
                    // what only the full-resolution output shows, measured by the composer (finite values only, as item results hold)
                    foreach (var (key, value) in c.Metrics ?? new Dictionary<string, double>())
                        if (double.IsFinite(value)) metrics[key] = value;
                    // Learned metrics (LPIPS, embedding similarity, FD/KID features) as the request and Pipeline:Metrics select.
                    var features = FeatureMetrics.MeasureItem(item.ItemId, item.ClassName, item.Mode.ToString().ToLowerInvariant(),
                        measured.Original, measured.Generated, measured.Reference, geometry, selection, networks, metrics, cancellationToken,
                        measured.CopyPaste, measured.RealObject);
                    var pairDefinitions = FeatureMetrics.MeasurePairs(item.ItemId, measured.Pairs, geometry, selection, networks, metrics, cancellationToken);
                    if (pairDefinitions.Count > 0) features = features with { Definitions = [.. features.Definitions, .. pairDefinitions] };
                    if ((features.Definitions.Count > 0 || features.FeatureModel is not null) &&
                        await run.ReadJsonAsync<ItemFeatureRecord>(MetricsBlobs.ItemFeatures(item.ItemId), cancellationToken).ConfigureAwait(false) is null)
                        await run.WriteJsonIfAbsentAsync(MetricsBlobs.ItemFeatures(item.ItemId), features, cancellationToken).ConfigureAwait(false);
                    var flags = RealismGateCheck.Evaluate(gate, metrics);
                    var outcome = flags.Count == 0 ? ItemOutcome.Succeeded : drop ? ItemOutcome.Dropped : ItemOutcome.Flagged;
                    result = new ItemResult
                    {
                        ItemId = item.ItemId, Outcome = outcome, Output = outcome == ItemOutcome.Dropped ? null : c.Output,
                        OutputSha256 = outcome == ItemOutcome.Dropped ? null : c.OutputSha256, Lineage = c.Lineage, Metrics = metrics, Flags = flags,
                    };
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    result = new ItemResult { ItemId = item.ItemId, Outcome = ItemOutcome.Failed, Error = $"measure: {ShardDocuments.Reason(e)}" };
                }
            }
            if (result.Outcome == ItemOutcome.Failed) failed++; else ok++;
            await run.WriteJsonIfAbsentAsync(RunBlobs.ItemResult(item.ItemId), result, cancellationToken).ConfigureAwait(false);
        }
        return new ShardStageResult(input.Shard.Index, ok, failed);
    }
}
