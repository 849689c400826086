using Pipeline.Core.Runs;

namespace Pipeline.Host.Runs;

/// <summary>
/// Gathers the shards of the messages received together into one <see cref="ShardSampler.SampleShardsAsync"/> pass.
/// Each of the <c>expected</c> messages either asks for its shard (<see cref="SampleAsync"/>) or is
/// <see cref="Skip"/>ped (handled without sampling); once all have, the pass runs and each asker gets its shard's
/// outcome (or the error that stopped its shard alone).
/// </summary>
internal sealed class ShardPassCollector(ShardSampler sampler, int expected)
{
    private readonly Lock _lock = new();
    private readonly List<(InferenceRequestMessage Request, TaskCompletionSource<InferenceDone> Result)> _waiting = [];
    private int _settled;
    private CancellationToken _cancellationToken;

    public Task<InferenceDone> SampleAsync(InferenceRequestMessage request, CancellationToken cancellationToken)
    {
        var result = new TaskCompletionSource<InferenceDone>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiting.Add((request, result));
            _cancellationToken = cancellationToken;
        }
        Settle();
        return result.Task;
    }

    public void Skip() => Settle();

    private void Settle()
    {
        bool last;
        lock (_lock) last = ++_settled == expected;
        if (last) _ = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        var waiting = _waiting.ToList();
        if (waiting.Count == 0) return;
        try
        {
            var pass = await sampler.SampleShardsAsync(waiting.Select(w => w.Request).ToList(), _cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < waiting.Count; i++)
            {
                if (pass.Shards[i].Done is { } done) waiting[i].Result.TrySetResult(done);
                else waiting[i].Result.TrySetException(pass.Shards[i].Error!);
            }
        }
        catch (OperationCanceledException e)
        {
            foreach (var w in waiting) w.Result.TrySetCanceled(e.CancellationToken);
        }
        catch (Exception e)
        {
            foreach (var w in waiting) w.Result.TrySetException(e);
        }
    }
}
