using Pipeline.Core.Contracts;

namespace Pipeline.Host.Runs;

/// <summary>The state of one item after a stage: an error ends the item (it is skipped by later stages).</summary>
public sealed record ItemStage(string ItemId, string? Error = null, CropGeometry? Geometry = null, string? Output = null, string? OutputSha256 = null,
    string? Lineage = null, IReadOnlyDictionary<string, double>? Metrics = null);

/// <summary>A stage's per-item record for one shard (runs/{id}/{stage}/shard-NNNNN.json).</summary>
public sealed record ShardManifest(int Index, IReadOnlyList<ItemStage> Items)
{
    public ItemStage? Find(string itemId) => Items.FirstOrDefault(i => i.ItemId == itemId);
}
