using Pipeline.Core.Contracts;
using Pipeline.Host.Runs.Metrics;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>Reading a run's per-item results, feature records and plan, shared by Aggregate, Report and the CLI.</summary>
public static class RunResults
{
    /// <summary>The feature records (runs/{id}/features/{item}.json) of the items that did not fail, in the results'
    /// order; an item without one (no feature network ran) is left out.</summary>
    public static async Task<IReadOnlyList<ItemFeatureRecord>> ReadFeatureRecordsAsync(RunStore run, IEnumerable<ItemResult> results, CancellationToken cancellationToken)
    {
        var records = new List<ItemFeatureRecord>();
        foreach (var r in results.Where(r => r.Outcome != ItemOutcome.Failed))
            if (await run.ReadJsonAsync<ItemFeatureRecord>(MetricsBlobs.ItemFeatures(r.ItemId), cancellationToken).ConfigureAwait(false) is { } f)
                records.Add(f.Value);
        return records;
    }

    public static async Task<IReadOnlyList<ItemResult>> ReadItemsAsync(RunStore run, CancellationToken cancellationToken)
    {
        var list = new List<ItemResult>();
        await foreach (var entry in run.ListAsync("items/", cancellationToken).ConfigureAwait(false))
        {
            var rel = entry.Path.Name[(run.RunId.Length + 1)..];
            var r = await run.ReadJsonAsync<ItemResult>(rel, cancellationToken).ConfigureAwait(false);
            if (r is not null) list.Add(r.Value);
        }
        return list.OrderBy(r => r.ItemId, StringComparer.Ordinal).ToList();
    }

    public static async Task<IReadOnlyList<WorkItem>> ReadPlannedItemsAsync(RunStore run, RunPlan plan, CancellationToken cancellationToken)
    {
        var items = new List<WorkItem>();
        foreach (var s in plan.Shards) items.AddRange((await ShardDocuments.ReadPlanAsync(run, s, cancellationToken).ConfigureAwait(false)).Items);
        return items;
    }
}
