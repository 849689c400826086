namespace Pipeline.Core.Runs;

/// <summary>
/// A shard of a run cannot go on (e.g. the GPU worker reported that it gave up on the shard). The shard orchestration
/// catches it (with <see cref="Orchestration.ActivityFailedException"/> and the inference timeout) and records the
/// shard's remaining items as failed; any other exception is a programming or engine error and fails the orchestration.
/// </summary>
public sealed class ShardFailedException(string message) : Exception(message);
