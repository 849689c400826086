using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.Engine;

/// <summary>
/// <see cref="IOrchestrationClient"/> over the engine's store. Scheduling is idempotent by instance id; events and
/// cancel requests are durable (written to storage first, then handed to the instance if it runs in this process;
/// an engine in another process sees them within its poll interval).
/// </summary>
public sealed class LocalOrchestrationClient : IOrchestrationClient
{
    private readonly ICheckpointStore _store;
    private readonly DurableEngineOptions _options;
    private readonly DurableEngine? _engine;

    public LocalOrchestrationClient(ICheckpointStore store, DurableEngineOptions options, DurableEngine? engine = null)
    {
        _store = store; _options = options; _engine = engine;
    }

    public Task<bool> ScheduleNewAsync(string orchestratorName, string instanceId, object? input, CancellationToken cancellationToken = default)
    {
        InstanceIds.ValidateName(orchestratorName, "Orchestrator");
        InstanceIds.Validate(instanceId);
        return ScheduleCoreAsync(orchestratorName, instanceId, JsonSerializer.SerializeToUtf8Bytes(input, OrchestrationJson.Options), null, cancellationToken);
    }

    internal async Task<bool> ScheduleCoreAsync(string name, string instanceId, byte[] inputJson, string? parentId, CancellationToken cancellationToken)
    {
        if (await _store.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false) is not null) return false;
        // Active first, record second: a crash in between leaves a marker the worker skips until the record appears
        // (never a record that no worker would find).
        await _store.MarkActiveAsync(instanceId, cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        var record = new InstanceRecord
        {
            InstanceId = instanceId, Name = name, State = RunState.Pending, InputJson = System.Text.Encoding.UTF8.GetString(inputJson),
            ParentInstanceId = parentId, CreatedAt = now, UpdatedAt = now,
        };
        bool created = await _store.TryCreateInstanceAsync(record, cancellationToken).ConfigureAwait(false);
        if (created) await _store.WriteRunStatusAsync(ToRunStatus(record), cancellationToken).ConfigureAwait(false);
        _engine?.Signal();
        return created;
    }

    public async Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        InstanceIds.ValidateName(eventName, "Event");
        var record = await _store.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false)
                     ?? throw new OrchestrationNotFoundException(instanceId);
        if (record.IsTerminal) return; // as in Durable Functions: events to finished instances are dropped
        var ev = new ExternalEventRecord($"{DateTime.UtcNow.Ticks:D19}-{Guid.NewGuid():N}", eventName,
            JsonSerializer.Serialize(payload, OrchestrationJson.Options));
        await _store.AddEventAsync(instanceId, ev, cancellationToken).ConfigureAwait(false);
        _engine?.NotifyEvent(instanceId, ev);
    }

    public async Task CancelAsync(string instanceId, string reason, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        var record = await _store.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false)
                     ?? throw new OrchestrationNotFoundException(instanceId);
        if (record.IsTerminal) return;
        reason = string.IsNullOrWhiteSpace(reason) ? "cancelled" : reason;
        await _store.RequestCancelAsync(instanceId, reason, cancellationToken).ConfigureAwait(false);
        _engine?.NotifyCancel(instanceId, reason);
    }

    public async Task<OrchestrationInstance?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        var record = await _store.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false);
        return record is null ? null : ToInstance(record);
    }

    public async Task<OrchestrationInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        return ToInstance(await WaitForRecordAsync(instanceId, cancellationToken).ConfigureAwait(false));
    }

    internal async Task<InstanceRecord> WaitForRecordAsync(string instanceId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var signal = _engine?.CompletionSignal(instanceId);
            var record = await _store.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false)
                         ?? throw new OrchestrationNotFoundException(instanceId);
            if (record.IsTerminal) return record;
            var delay = Task.Delay(_options.PollInterval, cancellationToken);
            await (signal is null ? delay : Task.WhenAny(signal, delay)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    internal static OrchestrationInstance ToInstance(InstanceRecord r) => new()
    {
        InstanceId = r.InstanceId, Name = r.Name, State = r.State, CreatedAt = r.CreatedAt, UpdatedAt = r.UpdatedAt,
        ParentInstanceId = r.ParentInstanceId, Input = Parse(r.InputJson), Output = Parse(r.OutputJson),
        CustomStatus = Parse(r.CustomStatusJson), Progress = r.Progress, Error = r.Error,
    };

    internal static RunStatus ToRunStatus(InstanceRecord r) => new()
    {
        RunId = r.InstanceId, State = r.State, CreatedAt = r.CreatedAt, UpdatedAt = r.UpdatedAt, Stage = r.Stage,
        Progress = r.Progress, CustomStatus = Parse(r.CustomStatusJson), Error = r.Error,
    };

    private static JsonElement? Parse(string? json)
    {
        if (json is null) return null;
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}
