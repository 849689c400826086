using System.Text.Json;
using System.Threading.Channels;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.Engine;

/// <summary>An activity call waiting for a slot in its lane.</summary>
internal sealed record ActivityWorkItem(
    OrchestrationExecution Execution, int Sequence, string Name, byte[] InputJson, RetryPolicy Retry, CancellationToken CancellationToken);

/// <summary>
/// Runs the calls of one activity name with at most <c>concurrency</c> at a time, across all instances of the engine
/// (a fan-out of 10,000 items queues 10,000 small work items, not 10,000 running tasks). Retries happen inside the
/// slot, with the policy's delays; only the final outcome is reported (and checkpointed).
/// </summary>
internal sealed class ActivityLane
{
    private readonly Channel<ActivityWorkItem> _queue = Channel.CreateUnbounded<ActivityWorkItem>();
    private readonly IActivity? _activity;
    private readonly string _name;
    private readonly Task[] _workers;

    public ActivityLane(string name, IActivity? activity, int concurrency)
    {
        _name = name; _activity = activity;
        _workers = new Task[concurrency];
        for (int i = 0; i < concurrency; i++) _workers[i] = Task.Run(WorkAsync);
    }

    public void Enqueue(ActivityWorkItem item)
    {
        if (!_queue.Writer.TryWrite(item)) throw new InvalidOperationException($"The engine is stopping; activity '{_name}' cannot be scheduled.");
    }

    public Task CloseAsync()
    {
        _queue.Writer.TryComplete();
        return Task.WhenAll(_workers);
    }

    private async Task WorkAsync()
    {
        await foreach (var item in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (item.CancellationToken.IsCancellationRequested) continue; // instance cancelled or abandoned
            var done = await RunWithRetryAsync(item).ConfigureAwait(false);
            if (done is not null) item.Execution.Post(done);
        }
    }

    private async Task<ExecutionInput.ActivityDone?> RunWithRetryAsync(ActivityWorkItem item)
    {
        if (_activity is null)
            return new ExecutionInput.ActivityDone(item.Sequence, null, "ActivityNotFoundException",
                $"No activity named '{_name}' is registered with this engine.", 1);
        Exception? last = null;
        int attempt = 0;
        for (attempt = 1; attempt <= item.Retry.MaxAttempts; attempt++)
        {
            if (attempt > 1)
            {
                try { await Task.Delay(item.Retry.DelayBeforeAttempt(attempt), item.CancellationToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return null; }
            }
            try
            {
                object? result;
                using (var doc = JsonDocument.Parse(item.InputJson))
                    result = await _activity.RunAsync(doc.RootElement, item.CancellationToken).ConfigureAwait(false);
                string json = JsonSerializer.Serialize(result, OrchestrationJson.Options);
                return new ExecutionInput.ActivityDone(item.Sequence, json, null, null, attempt);
            }
            catch (OperationCanceledException) when (item.CancellationToken.IsCancellationRequested)
            {
                return null; // the instance is being cancelled or abandoned: no outcome to record
            }
            catch (Exception e)
            {
                last = e;
            }
        }
        return new ExecutionInput.ActivityDone(item.Sequence, null, last!.GetType().Name, last.Message, item.Retry.MaxAttempts);
    }
}
