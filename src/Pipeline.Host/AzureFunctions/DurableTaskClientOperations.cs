using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Pipeline.Host.AzureFunctions;

/// <summary>
/// The project's client operations over Durable's <see cref="DurableTaskClient"/> (the [DurableClient] binding in
/// functions/, or a test host's client); <see cref="For"/> gives the port's <see cref="Core.Orchestration.IOrchestrationClient"/>.
/// </summary>
public sealed class DurableTaskClientOperations(DurableTaskClient client) : IDurableClientOperations
{
    /// <summary>The port's orchestration client over a Durable client.</summary>
    public static DurableOrchestrationClient For(DurableTaskClient client) => new(new DurableTaskClientOperations(client));

    public async Task<DurableInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        var m = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        return m is null ? null : new DurableInstanceState(m.InstanceId, m.Name, m.RuntimeStatus.ToString(),
            m.CreatedAt, m.LastUpdatedAt, m.SerializedInput, m.SerializedOutput, m.SerializedCustomStatus, m.FailureDetails?.ErrorMessage);
    }

    public async Task<bool> ScheduleAsync(string orchestratorName, string instanceId, object? input, CancellationToken cancellationToken)
    {
        // Every status deduplicates: an instance id that exists in any state is never started again.
        var options = new StartOrchestrationOptions(InstanceId: instanceId) { DedupeStatuses = Enum.GetNames<OrchestrationRuntimeStatus>() };
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(orchestratorName, input, options, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (global::DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException)
        {
            return false;
        }
        catch (InvalidOperationException e) when (e.Message.Contains("already exists", StringComparison.OrdinalIgnoreCase))
        {
            return false; // backends without dedupe statuses report a running duplicate this way
        }
    }

    public Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken)
        => client.RaiseEventAsync(instanceId, eventName, payload, cancellationToken);

    public Task TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken)
        => client.TerminateInstanceAsync(instanceId, new TerminateInstanceOptions(Output: reason, Recursive: true), cancellationToken);
}
