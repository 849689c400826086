using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Azure;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;

namespace Pipeline.Host.Engine;

/// <summary>
/// One run of one instance: replays the orchestrator against its checkpoint log, then runs it live.
/// <para>
/// The orchestrator's code runs only on this execution's pump (<see cref="OrchestratorSynchronizationContext"/>), so
/// its calls get sequence numbers in a deterministic order. Outcomes are delivered to it one at a time; each delivered
/// outcome is appended to the log in delivery order. On replay the logged outcomes are delivered again in the same
/// order, each only once the orchestrator has made the matching call (same number, kind, name and input fingerprint),
/// which is how nondeterminism is detected. Calls the log does not answer are dispatched at once; their outcomes wait
/// until the replay has finished, so the log order stays the delivery order. Outcomes may reach the orchestrator
/// before they are durable: after a crash the durable log is a prefix of the delivery order, which replays
/// consistently; only calls outside that prefix run again.
/// </para>
/// </summary>
internal sealed class OrchestrationExecution : IRunContext
{
    private readonly DurableEngine _engine;
    private readonly DurableEngineOptions _options;
    private readonly IOrchestrator _orchestrator;
    private readonly IInstanceLease _lease;
    private readonly Channel<ExecutionInput> _inbox = Channel.CreateUnbounded<ExecutionInput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly OrchestratorSynchronizationContext _sync;
    private readonly CancellationTokenSource _cts = new();
    private readonly Dictionary<int, PendingCall> _pending = [];
    private readonly List<PendingCall> _eventWaiters = [];
    private readonly List<ExternalEventRecord> _bufferedEvents = [];
    private readonly HashSet<string> _seenEvents = new(StringComparer.Ordinal);
    // Event ids the pump has seen, readable by the background poller (which skips them).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _knownEvents = new(StringComparer.Ordinal);
    private readonly Queue<ExecutionInput> _deferred = new();
    private Dictionary<int, CheckpointRecord>? _logIndex;
    private CheckpointLogWriter? _log;
    private Task<object?> _orchestratorTask = Task.FromResult<object?>(null);
    private int _nextSequence;
    private int _guidCounter;
    private DateTime _now;
    private int _blocked;
    private volatile bool _waitingForEvents;
    private Exception? _fatal;
    private string? _cancelReason;
    private Exception? _abort;

    // Status, read by the background loop.
    private int _total, _completed, _failed, _statusVersion;
    private volatile CustomStatusSnapshot? _customStatus;

    private sealed record CustomStatusSnapshot(string Json, string? Stage, RunProgress? Progress);

    private sealed class PendingCall(int sequence, CheckpointKind kind, string name, string fingerprint)
    {
        public int Sequence { get; } = sequence;
        public CheckpointKind Kind { get; } = kind;
        public string Name { get; } = name;
        public string Fingerprint { get; } = fingerprint;
        public bool Replayed { get; set; }
        public string? ChildId { get; set; }
        public TaskCompletionSource<CheckpointRecord> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public OrchestrationExecution(DurableEngine engine, InstanceRecord record, IOrchestrator orchestrator, IInstanceLease lease)
    {
        _engine = engine;
        _options = engine.Options;
        Record = record;
        _orchestrator = orchestrator;
        _lease = lease;
        _sync = new OrchestratorSynchronizationContext(WakeFromOutside);
        _now = DateTime.SpecifyKind(record.StartedAtUtc ?? throw new ArgumentException("The instance has no start time."), DateTimeKind.Utc);
    }

    public InstanceRecord Record { get; }

    public string InstanceId => Record.InstanceId;

    public string Name => Record.Name;

    public DateTime CurrentUtcDateTime => _now;

    public bool IsReplaying { get; private set; }

    /// <summary>Checkpoint appends this execution made (diagnostics, benchmark).</summary>
    public int LogAppends => _log?.Appends ?? 0;

    /// <summary>Child instances whose outcome this execution still waits for (cancelled with it).</summary>
    public IReadOnlyList<string> PendingChildIds => _pending.Values.Where(c => c.ChildId is not null).Select(c => c.ChildId!).ToList();

    public RunProgress Progress => new(Volatile.Read(ref _total), Volatile.Read(ref _completed), Volatile.Read(ref _failed));

    /// <summary>Hands an input to the pump (any thread).</summary>
    public void Post(ExecutionInput input) => _inbox.Writer.TryWrite(input);

    /// <summary>Cancels the instance: activities see their token fire, the pump ends it as cancelled.</summary>
    public void Cancel(string reason)
    {
        Post(new ExecutionInput.CancelRequested(reason));
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
    }

    private void WakeFromOutside()
    {
        if (Interlocked.CompareExchange(ref _blocked, 0, 1) == 1) _inbox.Writer.TryWrite(ExecutionInput.Wake.Instance);
    }

    public async Task<ExecutionOutcome> RunAsync(CancellationToken shutdown)
    {
        using var onShutdown = shutdown.Register(() => Post(new ExecutionInput.Abort(new OperationCanceledException("The engine is stopping."))));
        var replay = new Queue<CheckpointRecord>();
        _logIndex = [];
        await foreach (var record in _engine.Store.ReadLogAsync(InstanceId, _cts.Token).ConfigureAwait(false))
        {
            if (!_logIndex.TryAdd(record.Sequence, record))
                return new ExecutionOutcome(ExecutionResult.Failed, Error: $"The checkpoint log of '{InstanceId}' holds two outcomes for call #{record.Sequence}; it was written by two processes at once.");
            replay.Enqueue(record);
            if (record.EventId is not null) MarkSeen(record.EventId);
        }
        foreach (var e in await _engine.Store.ListEventsAsync(InstanceId, _seenEvents.Contains, _cts.Token).ConfigureAwait(false))
            if (MarkSeen(e.EventId)) _bufferedEvents.Add(e);

        _log = new CheckpointLogWriter(_engine.Store.OpenLogAppender(InstanceId), _options.MaxLogBatchBytes,
            e => Post(new ExecutionInput.Abort(new IOException($"Writing the checkpoint log of '{InstanceId}' failed: {e.Message}", e))));
        IsReplaying = replay.Count > 0;
        using var stopBackground = new CancellationTokenSource();
        var background = Task.Run(() => BackgroundAsync(stopBackground.Token));
        try
        {
            _sync.Run(() =>
            {
                try { _orchestratorTask = _orchestrator.RunAsync(this); }
                catch (Exception e) { _orchestratorTask = Task.FromException<object?>(e); }
            });
            return await PumpAsync(replay).ConfigureAwait(false);
        }
        finally
        {
            stopBackground.Cancel();
            try { await background.ConfigureAwait(false); } catch (OperationCanceledException) { }
            _cts.Cancel();
            await _log.CloseAsync().ConfigureAwait(false);
        }
    }

    private async Task<ExecutionOutcome> PumpAsync(Queue<CheckpointRecord> replay)
    {
        while (true)
        {
            _sync.RunReady();
            if (_fatal is not null) return await EndAsync(ExecutionResult.Failed, error: _fatal.Message).ConfigureAwait(false);
            if (_cancelReason is not null) return new ExecutionOutcome(ExecutionResult.Cancelled, Error: _cancelReason);
            if (_abort is not null) return new ExecutionOutcome(ExecutionResult.Abandoned, Error: _abort.Message);
            if (_orchestratorTask.IsCompleted) return await CompleteAsync(replay).ConfigureAwait(false);

            if (IsReplaying)
            {
                while (_inbox.Reader.TryRead(out var early)) HandleDuringReplay(early);
                if (_cancelReason is not null || _abort is not null) continue;
                if (replay.Count == 0)
                {
                    IsReplaying = false;
                    _logIndex = null;
                    while (_deferred.TryDequeue(out var input)) Handle(input);
                    continue;
                }
                var record = replay.Peek();
                if (!_pending.TryGetValue(record.Sequence, out var call))
                {
                    _fatal = new NonDeterministicOrchestrationException(InstanceId,
                        $"the checkpoint log's next outcome is for call #{record.Sequence}, {record.Describe()}, but the orchestrator waits " +
                        $"without having made that call (it made {_nextSequence} calls). Orchestrator code changed while the instance was in flight, " +
                        "or it reads clocks, randomness or I/O.");
                    continue;
                }
                replay.Dequeue();
                Deliver(call, record);
                continue;
            }

            if (TryDeliverBufferedEvent()) continue;
            if (!_inbox.Reader.TryRead(out var next))
            {
                Volatile.Write(ref _blocked, 1);
                Interlocked.MemoryBarrier();
                if (_sync.HasReady) { Volatile.Write(ref _blocked, 0); continue; }
                next = await _inbox.Reader.ReadAsync().ConfigureAwait(false);
                Volatile.Write(ref _blocked, 0);
            }
            Handle(next);
        }
    }

    private async Task<ExecutionOutcome> CompleteAsync(Queue<CheckpointRecord> replay)
    {
        if (_orchestratorTask.IsCompletedSuccessfully)
        {
            if (replay.Count > 0)
            {
                var r = replay.Peek();
                return await EndAsync(ExecutionResult.Failed, error: new NonDeterministicOrchestrationException(InstanceId,
                    $"the orchestrator finished after {_nextSequence} calls, but the checkpoint log has {replay.Count} more outcome(s), " +
                    $"the next for call #{r.Sequence}, {r.Describe()}.").Message).ConfigureAwait(false);
            }
            string output;
            try { output = JsonSerializer.Serialize(_orchestratorTask.Result, OrchestrationJson.Options); }
            catch (Exception e) when (e is JsonException or NotSupportedException)
            {
                return await EndAsync(ExecutionResult.Failed, error: $"The output of orchestrator '{Name}' cannot be serialised: {e.Message}").ConfigureAwait(false);
            }
            return await EndAsync(ExecutionResult.Completed, output: output).ConfigureAwait(false);
        }
        var error = _orchestratorTask.Exception?.InnerException;
        string message = error switch
        {
            null => $"Orchestrator '{Name}' was cancelled by its own code.",
            ActivityFailedException or OrchestrationFailedException or NonDeterministicOrchestrationException => error.Message,
            _ => $"{error.GetType().Name}: {error.Message}",
        };
        return await EndAsync(ExecutionResult.Failed, error: message).ConfigureAwait(false);
    }

    /// <summary>Makes every outcome durable before the instance is finished (a finished instance is never replayed,
    /// but its children and the log stay consistent for inspection).</summary>
    private async Task<ExecutionOutcome> EndAsync(ExecutionResult result, string? output = null, string? error = null)
    {
        try { await _log!.FlushAsync().ConfigureAwait(false); }
        catch (Exception e) { return new ExecutionOutcome(ExecutionResult.Abandoned, Error: $"checkpoint flush failed: {e.Message}"); }
        return new ExecutionOutcome(result, output, error);
    }

    private void HandleDuringReplay(ExecutionInput input)
    {
        switch (input)
        {
            case ExecutionInput.CancelRequested or ExecutionInput.Abort or ExecutionInput.EventArrived or ExecutionInput.Wake:
                Handle(input);
                break;
            default:
                _deferred.Enqueue(input); // live outcomes wait until the logged ones are delivered
                break;
        }
    }

    private void Handle(ExecutionInput input)
    {
        switch (input)
        {
            case ExecutionInput.ActivityDone d when _pending.TryGetValue(d.Sequence, out var call):
            {
                bool failed = d.ErrorType is not null;
                string? result = d.ResultJson;
                string? errorType = d.ErrorType, errorMessage = d.ErrorMessage;
                if (result is not null && result.Length > CheckpointLogWriter.MaxRecordBytes / 2)
                {
                    failed = true; result = null; errorType = "PayloadTooLargeException";
                    errorMessage = $"The result of activity '{call.Name}' is {d.ResultJson!.Length} characters; results must stay under " +
                                   $"{CheckpointLogWriter.MaxRecordBytes / 2} (write large data to a blob and return its name).";
                }
                Checkpoint(call, new CheckpointRecord
                {
                    Sequence = call.Sequence, Kind = call.Kind, Name = call.Name, Fingerprint = call.Fingerprint, TimestampTicks = NextTimestamp(),
                    Failed = failed, ResultJson = result, ErrorType = errorType, ErrorMessage = errorMessage, Attempts = d.Attempts,
                });
                break;
            }
            case ExecutionInput.ChildDone c when _pending.TryGetValue(c.Sequence, out var call):
            {
                bool ok = c.Final.State == RunState.Completed;
                Checkpoint(call, new CheckpointRecord
                {
                    Sequence = call.Sequence, Kind = call.Kind, Name = call.Name, Fingerprint = call.Fingerprint, TimestampTicks = NextTimestamp(),
                    Failed = !ok, ResultJson = ok ? c.Final.OutputJson : null,
                    ErrorType = ok ? null : c.Final.State.ToString(), ErrorMessage = ok ? null : c.Final.Error ?? $"the instance ended {c.Final.State}",
                });
                break;
            }
            case ExecutionInput.TimerFired t when _pending.TryGetValue(t.Sequence, out var call):
                Checkpoint(call, new CheckpointRecord
                {
                    Sequence = call.Sequence, Kind = call.Kind, Name = call.Name, Fingerprint = call.Fingerprint, TimestampTicks = NextTimestamp(),
                    TimedOut = call.Kind == CheckpointKind.Event,
                });
                break;
            case ExecutionInput.EventArrived e:
                if (MarkSeen(e.Event.EventId))
                {
                    int at = _bufferedEvents.FindIndex(b => string.CompareOrdinal(b.EventId, e.Event.EventId) > 0);
                    if (at < 0) _bufferedEvents.Add(e.Event); else _bufferedEvents.Insert(at, e.Event);
                }
                break;
            case ExecutionInput.CancelRequested c:
                _cancelReason ??= string.IsNullOrEmpty(c.Reason) ? "cancelled" : c.Reason;
                break;
            case ExecutionInput.Abort a:
                _abort ??= a.Reason;
                break;
        }
    }

    /// <summary>Gives the oldest buffered event to the earliest wait for its name (live only).</summary>
    private bool TryDeliverBufferedEvent()
    {
        if (_eventWaiters.Count == 0 || _bufferedEvents.Count == 0) return false;
        foreach (var waiter in _eventWaiters)
        {
            int i = _bufferedEvents.FindIndex(e => e.Name == waiter.Name);
            if (i < 0) continue;
            var ev = _bufferedEvents[i];
            _bufferedEvents.RemoveAt(i);
            Checkpoint(waiter, new CheckpointRecord
            {
                Sequence = waiter.Sequence, Kind = waiter.Kind, Name = waiter.Name, Fingerprint = waiter.Fingerprint, TimestampTicks = NextTimestamp(),
                ResultJson = ev.PayloadJson ?? "null", EventId = ev.EventId,
            });
            return true;
        }
        return false;
    }

    private bool MarkSeen(string eventId)
    {
        if (!_seenEvents.Add(eventId)) return false;
        _knownEvents.TryAdd(eventId, 0);
        return true;
    }

    private long NextTimestamp() => Math.Max(DateTime.UtcNow.Ticks, _now.Ticks);

    private void Checkpoint(PendingCall call, CheckpointRecord record)
    {
        _log!.Append(record);
        Deliver(call, record);
    }

    private void Deliver(PendingCall call, CheckpointRecord record)
    {
        _now = new DateTime(record.TimestampTicks, DateTimeKind.Utc);
        _pending.Remove(call.Sequence);
        if (call.Kind == CheckpointKind.Event)
        {
            _eventWaiters.Remove(call);
            _waitingForEvents = _eventWaiters.Count > 0;
        }
        else if (call.Kind == CheckpointKind.Activity)
        {
            if (record.Failed) Volatile.Write(ref _failed, _failed + 1); else Volatile.Write(ref _completed, _completed + 1);
            Volatile.Write(ref _statusVersion, _statusVersion + 1);
        }
        // Completed on the pump with the context current, so the continuation is queued there, not run elsewhere.
        _sync.Run(() => call.Outcome.TrySetResult(record));
    }

    // ---- IRunContext -------------------------------------------------------------------------------------------

    private void EnsureOrchestratorThread()
    {
        if (!_sync.IsCurrent)
            throw new InvalidOperationException($"Orchestration '{InstanceId}': IRunContext was used off the orchestrator's thread. " +
                                                "Orchestrator code must not use Task.Run, ConfigureAwait(false), Task.Delay or other threads.");
    }

    private PendingCall Schedule(CheckpointKind kind, string name, string fingerprint)
    {
        EnsureOrchestratorThread();
        if (_fatal is not null) throw _fatal;
        int sequence = _nextSequence++;
        var call = new PendingCall(sequence, kind, name, fingerprint);
        if (_logIndex is not null && _logIndex.Remove(sequence, out var logged))
        {
            if (logged.Kind != kind || logged.Name != name || logged.Fingerprint != fingerprint)
            {
                _fatal = new NonDeterministicOrchestrationException(InstanceId,
                    $"call #{sequence}: the checkpoint log recorded {logged.Describe()}, but the orchestrator now calls " +
                    $"{CheckpointRecord.KindName(kind)} '{name}' ({fingerprint}). Orchestrator code changed while the instance was in flight, " +
                    "or it reads clocks, randomness or I/O.");
                throw _fatal;
            }
            call.Replayed = true;
        }
        _pending.Add(sequence, call);
        if (kind == CheckpointKind.Activity)
        {
            Volatile.Write(ref _total, _total + 1);
            Volatile.Write(ref _statusVersion, _statusVersion + 1);
        }
        return call;
    }

    /// <summary>First 8 bytes of SHA-256 of the input's JSON: enough to tell calls apart, short in the log.</summary>
    private static string Fingerprint(ReadOnlySpan<byte> json)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(json, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    private static T ReadResult<T>(string? json, string what)
    {
        if (json is null) return default!;
        try { return JsonSerializer.Deserialize<T>(json, OrchestrationJson.Options)!; }
        catch (JsonException e) { throw new InvalidOperationException($"{what} cannot be read as {typeof(T).Name}: {e.Message}", e); }
    }

    public T GetInput<T>() => ReadResult<T>(Record.InputJson, $"The input of orchestration '{InstanceId}'");

    public Task<TResult> CallActivityAsync<TResult>(string name, object? input, RetryPolicy? retry = null)
    {
        InstanceIds.ValidateName(name, "Activity");
        retry?.Validate();
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(input, OrchestrationJson.Options);
        var call = Schedule(CheckpointKind.Activity, name, Fingerprint(json));
        if (!call.Replayed)
            _engine.DispatchActivity(new ActivityWorkItem(this, call.Sequence, name, json, retry ?? _options.DefaultRetry, _cts.Token));
        return AwaitActivityAsync<TResult>(call);
    }

    private static async Task<TResult> AwaitActivityAsync<TResult>(PendingCall call)
    {
        var record = await call.Outcome.Task;
        if (record.Failed)
            throw new ActivityFailedException(call.Name, record.ErrorType ?? "Exception", record.ErrorMessage ?? "", Math.Max(1, record.Attempts));
        return ReadResult<TResult>(record.ResultJson, $"The result of activity '{call.Name}'");
    }

    public async Task<TResult> CallSubOrchestratorAsync<TResult>(string name, string instanceId, object? input, RetryPolicy? retry = null)
    {
        InstanceIds.ValidateName(name, "Orchestrator");
        InstanceIds.Validate(instanceId);
        retry?.Validate();
        var policy = retry ?? RetryPolicy.None;
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(input, OrchestrationJson.Options);
        string fingerprint = Fingerprint(json);
        for (int attempt = 1; ; attempt++)
        {
            string childId = attempt == 1 ? instanceId : $"{instanceId}-retry{attempt}";
            InstanceIds.Validate(childId);
            var call = Schedule(CheckpointKind.SubOrchestration, name, $"{childId}:{fingerprint}");
            call.ChildId = childId;
            if (!call.Replayed) _engine.StartChild(this, call.Sequence, name, childId, json, _cts.Token);
            var record = await call.Outcome.Task;
            if (!record.Failed) return ReadResult<TResult>(record.ResultJson, $"The output of sub-orchestration '{childId}'");
            if (attempt >= policy.MaxAttempts)
                throw new OrchestrationFailedException(name, childId, record.ErrorMessage ?? "failed");
            await CreateTimer(_now + policy.DelayBeforeAttempt(attempt + 1));
        }
    }

    public Task<T> WaitForExternalEventAsync<T>(string name, TimeSpan timeout)
    {
        InstanceIds.ValidateName(name, "Event");
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative (Timeout.InfiniteTimeSpan waits forever).");
        var call = Schedule(CheckpointKind.Event, name, "");
        if (!call.Replayed)
        {
            _eventWaiters.Add(call);
            _waitingForEvents = true;
            if (timeout != Timeout.InfiniteTimeSpan) StartTimer(call.Sequence, _now + timeout);
        }
        return AwaitEventAsync<T>(call, timeout);
    }

    private static async Task<T> AwaitEventAsync<T>(PendingCall call, TimeSpan timeout)
    {
        var record = await call.Outcome.Task;
        if (record.TimedOut) throw new TimeoutException($"No external event '{call.Name}' arrived within {timeout}.");
        return ReadResult<T>(record.ResultJson, $"The payload of external event '{call.Name}'");
    }

    public Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken = default)
    {
        var fireAt = fireAtUtc.Kind == DateTimeKind.Local ? fireAtUtc.ToUniversalTime() : DateTime.SpecifyKind(fireAtUtc, DateTimeKind.Utc);
        var call = Schedule(CheckpointKind.Timer, "timer", fireAt.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!call.Replayed) StartTimer(call.Sequence, fireAt);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                // Abandon the timer on the orchestrator's thread, in program order (deterministic on replay).
                void Abandon() { if (_pending.Remove(call.Sequence)) call.Outcome.TrySetCanceled(cancellationToken); }
                if (_sync.IsCurrent) Abandon(); else _sync.Post(_ => Abandon(), null);
            });
        }
        return call.Outcome.Task;
    }

    private void StartTimer(int sequence, DateTime fireAtUtc)
    {
        var token = _cts.Token;
        _ = Task.Run(async () =>
        {
            try
            {
                // Task.Delay takes at most ~49 days; wait in steps.
                for (var left = fireAtUtc - DateTime.UtcNow; left > TimeSpan.Zero; left = fireAtUtc - DateTime.UtcNow)
                    await Task.Delay(left < TimeSpan.FromDays(1) ? left : TimeSpan.FromDays(1), token).ConfigureAwait(false);
                Post(new ExecutionInput.TimerFired(sequence));
            }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);
    }

    public void SetCustomStatus(object? status)
    {
        EnsureOrchestratorThread();
        var element = JsonSerializer.SerializeToElement(status, OrchestrationJson.Options);
        var run = RunCustomStatus.TryRead(element);
        string? stage = run?.Stage;
        RunProgress? progress = run?.Progress;
        _customStatus = new CustomStatusSnapshot(element.GetRawText(), stage, progress);
        Volatile.Write(ref _statusVersion, _statusVersion + 1);
    }

    public Guid NewGuid()
    {
        EnsureOrchestratorThread();
        // Name-based UUID (RFC 4122 section 4.3, version 5) from the instance id and the call count.
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(Encoding.UTF8.GetBytes($"{InstanceId}\n{_guidCounter++}"), hash);
        var bytes = hash[..16].ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    // ---- background: lease, cancel and event polling, status ----------------------------------------------------

    /// <summary>The instance record as the status loop last saw it (for the final write).</summary>
    public InstanceRecord Snapshot(RunState state)
    {
        var custom = _customStatus;
        return Record with
        {
            State = state,
            UpdatedAt = DateTimeOffset.UtcNow,
            CustomStatusJson = custom?.Json ?? Record.CustomStatusJson,
            Stage = custom?.Stage ?? Record.Stage,
            Progress = custom?.Progress ?? Progress,
        };
    }

    private async Task BackgroundAsync(CancellationToken stop)
    {
        var tick = _options.StatusInterval > TimeSpan.Zero && _options.StatusInterval < _options.PollInterval ? _options.StatusInterval : _options.PollInterval;
        var renewEvery = _options.LeaseDuration / 3;
        var lastRenew = DateTime.UtcNow;
        var lastPoll = DateTime.UtcNow;
        var lastStatus = DateTime.MinValue;
        int writtenVersion = -1;
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(tick, stop).ConfigureAwait(false);
            var now = DateTime.UtcNow;
            if (now - lastRenew >= renewEvery)
            {
                try { await _lease.RenewAsync(stop).ConfigureAwait(false); lastRenew = now; }
                catch (RequestFailedException e) when (e.Status is 409 or 412 or 404)
                {
                    Post(new ExecutionInput.Abort(new InvalidOperationException($"Lost the lease on instance '{InstanceId}': {e.ErrorCode}")));
                    return;
                }
                catch (Exception e) when (e is RequestFailedException or IOException or HttpRequestException)
                {
                    _engine.Logger.LogWarning(e, "Renewing the lease of {InstanceId} failed; retrying", InstanceId);
                    if (now - lastRenew > _options.LeaseDuration - renewEvery)
                    {
                        Post(new ExecutionInput.Abort(new IOException($"Could not renew the lease on '{InstanceId}' in time: {e.Message}", e)));
                        return;
                    }
                }
            }
            try
            {
                if (now - lastPoll >= _options.PollInterval)
                {
                    lastPoll = now;
                    var reason = await _engine.Store.GetCancelRequestAsync(InstanceId, stop).ConfigureAwait(false);
                    if (reason is not null) Cancel(reason);
                    if (_waitingForEvents)
                        foreach (var e in await _engine.Store.ListEventsAsync(InstanceId, _knownEvents.ContainsKey, stop).ConfigureAwait(false))
                            Post(new ExecutionInput.EventArrived(e));
                }
                int version = Volatile.Read(ref _statusVersion);
                if (version != writtenVersion && !IsReplaying && now - lastStatus >= _options.StatusInterval)
                {
                    writtenVersion = version;
                    lastStatus = now;
                    await _engine.WriteStateAsync(Snapshot(RunState.Running), stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e) when (e is RequestFailedException or IOException or HttpRequestException or InvalidDataException)
            {
                _engine.Logger.LogWarning(e, "Background work of {InstanceId} failed; retrying", InstanceId);
            }
        }
    }
}
