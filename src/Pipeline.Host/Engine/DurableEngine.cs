using System.Collections.Concurrent;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.Engine;

/// <summary>
/// The local durable engine: runs orchestration instances from the active set, one <see cref="OrchestrationExecution"/>
/// per instance, resuming unfinished ones after a restart (see docs/engine.md for the guarantees). Activities run in
/// per-name lanes with bounded concurrency. <see cref="Client"/> schedules, signals and queries instances; it works
/// without <see cref="StartAsync"/> too (a process that only submits work).
/// </summary>
public sealed class DurableEngine : IAsyncDisposable, IDisposable
{
    private readonly OrchestrationRegistry _registry;
    private readonly ConcurrentDictionary<string, (OrchestrationExecution Execution, Task Run)> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ActivityLane> _lanes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _completionWaiters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTime> _retryAfter = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly object _lifecycle = new();
    private CancellationTokenSource? _stopping;
    private Task? _loop;

    public DurableEngine(ICheckpointStore store, OrchestrationRegistry registry, DurableEngineOptions options, ILogger<DurableEngine>? logger = null)
    {
        options.Validate();
        Store = store;
        _registry = registry;
        Options = options;
        Logger = (ILogger?)logger ?? NullLogger.Instance;
        Client = new LocalOrchestrationClient(store, options, this);
    }

    /// <summary>Schedules, signals, cancels and queries instances.</summary>
    public LocalOrchestrationClient Client { get; }

    internal ICheckpointStore Store { get; }
    internal DurableEngineOptions Options { get; }
    internal ILogger Logger { get; }

    /// <summary>Instances this engine runs now.</summary>
    public int RunningInstances => _running.Count;

    /// <summary>Starts the worker: resumes every unfinished instance and runs newly scheduled ones.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await Store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        lock (_lifecycle)
        {
            if (_loop is not null) throw new InvalidOperationException("The engine is already started.");
            _stopping = new CancellationTokenSource();
            var token = _stopping.Token;
            _loop = Task.Run(() => WorkerLoopAsync(token), CancellationToken.None);
        }
    }

    /// <summary>Stops running instances where they are (their logs are flushed; they resume on the next start).</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task? loop;
        lock (_lifecycle) { loop = _loop; _stopping?.Cancel(); }
        if (loop is null) return;
        await loop.ConfigureAwait(false);
        await Task.WhenAll(_running.Values.Select(r => r.Run)).WaitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var lane in _lanes.Values) await lane.CloseAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        _lanes.Clear();
        lock (_lifecycle) { _loop = null; _stopping?.Dispose(); _stopping = null; }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>Stops (blocking) for containers disposed synchronously; prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => StopAsync().GetAwaiter().GetResult();

    /// <summary>Wakes the worker (an instance was scheduled or cancelled in this process).</summary>
    internal void Signal()
    {
        try { _wake.Release(); } catch (SemaphoreFullException) { }
    }

    private async Task WorkerLoopAsync(CancellationToken stopping)
    {
        var backoff = Options.PollInterval;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await foreach (var id in Store.ListActiveAsync(stopping).ConfigureAwait(false))
                {
                    if (_running.ContainsKey(id)) continue;
                    if (_running.Count >= Options.MaxConcurrentInstances) break;
                    if (_retryAfter.TryGetValue(id, out var after) && after > DateTime.UtcNow) continue;
                    await TryStartAsync(id, stopping).ConfigureAwait(false);
                }
                backoff = Options.PollInterval;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { break; }
            catch (Exception e) when (e is RequestFailedException or IOException or HttpRequestException)
            {
                // Storage unreachable (e.g. Azurite restarting): back off, never crash-loop.
                Logger.LogWarning(e, "Listing active instances failed; retrying in {Delay}", backoff);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
            try
            {
                await _wake.WaitAsync(backoff, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { break; }
        }
    }

    private async Task TryStartAsync(string instanceId, CancellationToken stopping)
    {
        var lease = await Store.TryAcquireAsync(instanceId, InstanceLeaseOwner.Current, Options.LeaseDuration, stopping).ConfigureAwait(false);
        if (lease is null) return;
        try
        {
            var record = await Store.GetInstanceAsync(instanceId, stopping).ConfigureAwait(false);
            if (record is null)
            {
                // Marked active but the record is not written yet (a scheduler is between its two writes): look again later.
                await lease.ReleaseAsync(stopping).ConfigureAwait(false);
                _retryAfter[instanceId] = DateTime.UtcNow + Options.PollInterval * 5;
                return;
            }
            if (record.IsTerminal)
            {
                // Finished, but the process stopped before it left the active set: finish the bookkeeping.
                await WriteStateAsync(record, stopping).ConfigureAwait(false);
                await lease.CompleteAsync(stopping).ConfigureAwait(false);
                NotifyCompleted(record);
                return;
            }
            var cancel = await Store.GetCancelRequestAsync(instanceId, stopping).ConfigureAwait(false);
            if (cancel is not null)
            {
                await FinishAsync(record with { State = RunState.Cancelled, Error = cancel, UpdatedAt = DateTimeOffset.UtcNow }, lease, stopping).ConfigureAwait(false);
                return;
            }
            if (!_registry.TryGetOrchestrator(record.Name, out var orchestrator))
            {
                await FinishAsync(record with
                {
                    State = RunState.Failed, UpdatedAt = DateTimeOffset.UtcNow,
                    Error = $"No orchestrator named '{record.Name}' is registered with this engine.",
                }, lease, stopping).ConfigureAwait(false);
                return;
            }
            record = record with
            {
                State = RunState.Running,
                StartedAtUtc = record.StartedAtUtc ?? DateTime.UtcNow,
                Executions = record.Executions + 1,
                UpdatedAt = DateTimeOffset.UtcNow,
            };
            await WriteStateAsync(record, stopping).ConfigureAwait(false);
            var execution = new OrchestrationExecution(this, record, orchestrator, lease);
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _running[instanceId] = (execution, tcs.Task);
            _ = Task.Run(async () =>
            {
                try { await RunExecutionAsync(execution, lease, stopping).ConfigureAwait(false); }
                finally { _running.TryRemove(instanceId, out _); tcs.TrySetResult(); Signal(); }
            }, CancellationToken.None);
        }
        catch (Exception e) when (e is RequestFailedException or IOException or HttpRequestException or InvalidDataException or OperationCanceledException)
        {
            if (e is not OperationCanceledException) Logger.LogWarning(e, "Starting instance {InstanceId} failed; retrying later", instanceId);
            _retryAfter[instanceId] = DateTime.UtcNow + Options.PollInterval * 5;
            await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task RunExecutionAsync(OrchestrationExecution execution, IInstanceLease lease, CancellationToken stopping)
    {
        string id = execution.InstanceId;
        try
        {
            ExecutionOutcome outcome;
            try { outcome = await execution.RunAsync(stopping).ConfigureAwait(false); }
            catch (InvalidDataException e) { outcome = new ExecutionOutcome(ExecutionResult.Failed, Error: e.Message); }
            switch (outcome.Result)
            {
                case ExecutionResult.Abandoned:
                    if (!stopping.IsCancellationRequested)
                    {
                        Logger.LogWarning("Instance {InstanceId} abandoned: {Reason}; it resumes later", id, outcome.Error);
                        _retryAfter[id] = DateTime.UtcNow + Options.PollInterval * 5;
                    }
                    await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                    return;
                case ExecutionResult.Completed:
                {
                    // an output with a "state" (e.g. the run's summary: completedWithFailures, failed, rejected) sets the final state
                    var (state, error) = Pipeline.Core.Runs.RunOutcome.FromOutput(outcome.OutputJson);
                    await FinishAsync(execution.Snapshot(state) with { OutputJson = outcome.OutputJson, Error = error }, lease, CancellationToken.None).ConfigureAwait(false);
                }
                    return;
                case ExecutionResult.Failed:
                    Logger.LogWarning("Instance {InstanceId} failed: {Error}", id, outcome.Error);
                    await FinishAsync(execution.Snapshot(RunState.Failed) with { Error = outcome.Error }, lease, CancellationToken.None).ConfigureAwait(false);
                    return;
                case ExecutionResult.Cancelled:
                    foreach (var child in execution.PendingChildIds)
                    {
                        try { await Client.CancelAsync(child, $"parent '{id}' was cancelled: {outcome.Error}", CancellationToken.None).ConfigureAwait(false); }
                        catch (OrchestrationNotFoundException) { }
                    }
                    await FinishAsync(execution.Snapshot(RunState.Cancelled) with { Error = outcome.Error }, lease, CancellationToken.None).ConfigureAwait(false);
                    return;
            }
        }
        catch (Exception e)
        {
            // Storage trouble (or a bug): the instance stays active and is finished (or replayed) on a later pass.
            Logger.LogWarning(e, "Running or finishing instance {InstanceId} failed; it resumes later", id);
            _retryAfter[id] = DateTime.UtcNow + Options.PollInterval * 5;
            await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Records the terminal state (the commit point), then leaves the active set and wakes waiters.</summary>
    private async Task FinishAsync(InstanceRecord final, IInstanceLease lease, CancellationToken cancellationToken)
    {
        await WriteStateAsync(final, cancellationToken).ConfigureAwait(false);
        await lease.CompleteAsync(cancellationToken).ConfigureAwait(false);
        NotifyCompleted(final);
    }

    internal async Task WriteStateAsync(InstanceRecord record, CancellationToken cancellationToken)
    {
        await Store.SaveInstanceAsync(record, cancellationToken).ConfigureAwait(false);
        await Store.WriteRunStatusAsync(LocalOrchestrationClient.ToRunStatus(record), cancellationToken).ConfigureAwait(false);
    }

    private void NotifyCompleted(InstanceRecord final)
    {
        if (_completionWaiters.TryRemove(final.InstanceId, out var tcs)) tcs.TrySetResult();
    }

    /// <summary>A task that completes when this process finishes the instance (a hint; callers also poll storage).</summary>
    internal Task CompletionSignal(string instanceId)
        => _completionWaiters.GetOrAdd(instanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    internal void NotifyEvent(string instanceId, ExternalEventRecord externalEvent)
    {
        if (_running.TryGetValue(instanceId, out var r)) r.Execution.Post(new ExecutionInput.EventArrived(externalEvent));
    }

    internal void NotifyCancel(string instanceId, string reason)
    {
        if (_running.TryGetValue(instanceId, out var r)) r.Execution.Cancel(reason);
        else Signal(); // a pending instance is finished as cancelled by the worker
    }

    internal void DispatchActivity(ActivityWorkItem item)
    {
        var lane = _lanes.GetOrAdd(item.Name, name =>
        {
            _registry.TryGetActivity(name, out var activity);
            int limit = Options.ActivityConcurrency.TryGetValue(name, out int l) ? l : Options.DefaultActivityConcurrency;
            return new ActivityLane(name, activity, limit);
        });
        lane.Enqueue(item);
    }

    internal void StartChild(OrchestrationExecution parent, int sequence, string name, string childId, byte[] inputJson, CancellationToken cancellationToken)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await Client.ScheduleCoreAsync(name, childId, inputJson, parent.InstanceId, cancellationToken).ConfigureAwait(false);
                var final = await Client.WaitForRecordAsync(childId, cancellationToken).ConfigureAwait(false);
                parent.Post(new ExecutionInput.ChildDone(sequence, final));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                parent.Post(new ExecutionInput.Abort(new IOException($"Starting or watching sub-orchestration '{childId}' failed: {e.Message}", e)));
            }
        }, CancellationToken.None);
    }
}
