using Pipeline.Core.Runs;

namespace Pipeline.Host.Runs;

/// <summary>What one <see cref="ShardSampler.SampleShardsAsync"/> pass did: an outcome per shard, in the order asked,
/// and the size of every denoiser batch it ran (items of different shards share batches).</summary>
public sealed record ShardPass(IReadOnlyList<ShardPassOutcome> Shards, IReadOnlyList<int> Batches);

/// <summary>One shard of a pass: its counts (<see cref="Done"/>), or the <see cref="Error"/> that stopped it alone.</summary>
public sealed record ShardPassOutcome(InferenceRequestMessage Request, InferenceDone? Done, Exception? Error);
