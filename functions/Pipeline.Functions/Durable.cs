using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Orchestration;

namespace Pipeline.Functions;

/// <summary>Orchestrator functions: each runs the registered IOrchestrator of its name through the adapter from
/// TaskOrchestrationContext to the project's IRunContext (Pipeline.Host.AzureFunctions.DurableRunContext).</summary>
public sealed class Orchestrations(OrchestrationRegistry registry)
{
    [Function(RunActivityNames.AugmentationRun)]
    public Task<object?> AugmentationRun([OrchestrationTrigger] TaskOrchestrationContext context)
        => DurableRunContext.RunAsync(registry, RunActivityNames.AugmentationRun, new TaskOrchestrationContextShim(context));

    [Function(RunActivityNames.AugmentShardGroup)]
    public Task<object?> AugmentShardGroup([OrchestrationTrigger] TaskOrchestrationContext context)
        => DurableRunContext.RunAsync(registry, RunActivityNames.AugmentShardGroup, new TaskOrchestrationContextShim(context));
}

/// <summary>Activity functions: one per activity name, each delegating to the registered IActivity.</summary>
public sealed class Activities(OrchestrationRegistry registry)
{
    private Task<object?> Run(string name, JsonElement input, FunctionContext context)
        => DurableActivities.RunAsync(registry, name, input, context.CancellationToken);

    [Function(RunActivityNames.Plan)]
    public Task<object?> Plan([ActivityTrigger] JsonElement input, FunctionContext context) => Run(RunActivityNames.Plan, input, context);

    [Function(RunActivityNames.Estimate)]
    public Task<object?> Estimate([ActivityTrigger] JsonElement input, FunctionContext context) => Run(RunActivityNames.Estimate, input, context);

    [Function(RunActivityNames.Preprocess)]
    public Task<object?> Preprocess([ActivityTrigger] JsonElement input, FunctionContext context) => Run(RunActivityNames.Preprocess, input, context);

    [Function(RunActivityNames.RequestInference)]
    public Task<object?> RequestInference([ActivityTrigger] JsonElement input, FunctionContext context) => Run(RunActivityNames.RequestInference, input, context);

    [Function(RunActivityNames.Compose)]
    public Task<object?> Compose([ActivityTrigger] JsonElement input, FunctionContext context) => Run(RunActivityNames.Compose, input, context);

    [Function(RunActivityNames.Measure)]
    public Task<object?> Measure([ActivityTrigger] JsonElement input, FunctionContext context) => Run(RunActivityNames.Measure, input, context);

    [Function(RunActivityNames.RecordShardFailure)]
    public Task<object?> RecordShardFailure([ActivityTrigger] JsonElement input, FunctionContext context) => Run(RunActivityNames.RecordShardFailure, input, context);

    [Function(RunActivityNames.Aggregate)]
    public Task<object?> Aggregate([ActivityTrigger] JsonElement input, FunctionContext context) => Run(RunActivityNames.Aggregate, input, context);

    [Function(RunActivityNames.Report)]
    public Task<object?> Report([ActivityTrigger] JsonElement input, FunctionContext context) => Run(RunActivityNames.Report, input, context);
}

/// <summary>The one place that touches TaskOrchestrationContext: each member forwards to Durable, and Durable's
/// TaskFailedException becomes the project-side DurableTaskFailedException that DurableRunContext maps.</summary>
internal sealed class TaskOrchestrationContextShim(TaskOrchestrationContext context) : IDurableOrchestrationContext
{
    public string InstanceId => context.InstanceId;
    public DateTime CurrentUtcDateTime => context.CurrentUtcDateTime;
    public bool IsReplaying => context.IsReplaying;
    public T? GetInput<T>() => context.GetInput<T>();
    public Guid NewGuid() => context.NewGuid();
    public void SetCustomStatus(object? status) => context.SetCustomStatus(status);
    public Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken) => context.CreateTimer(fireAtUtc, cancellationToken);
    public Task<T> WaitForExternalEvent<T>(string name, CancellationToken cancellationToken) => context.WaitForExternalEvent<T>(name, cancellationToken);

    public async Task<T> CallActivityAsync<T>(string name, object? input, DurableRetry? retry)
    {
        TaskOptions? options = retry is null ? null : TaskOptions.FromRetryPolicy(new Microsoft.DurableTask.RetryPolicy(
            retry.MaxNumberOfAttempts, retry.FirstRetryInterval, retry.BackoffCoefficient, retry.MaxRetryInterval));
        try { return await context.CallActivityAsync<T>(name, input, options); }
        catch (TaskFailedException e) { throw Failed(e); }
    }

    public async Task<T> CallSubOrchestratorAsync<T>(string name, string instanceId, object? input)
    {
        try { return await context.CallSubOrchestratorAsync<T>(name, input, new SubOrchestrationOptions(instanceId: instanceId)); }
        catch (TaskFailedException e) { throw Failed(e); }
    }

    private static DurableTaskFailedException Failed(TaskFailedException e) =>
        new(e.TaskName, e.FailureDetails.ErrorType, e.FailureDetails.ErrorMessage, e);
}

/// <summary>Wraps the [DurableClient] binding as the project's client operations.</summary>
internal static class DurableClients
{
    public static DurableOrchestrationClient Wrap(DurableTaskClient client) => new(new DurableTaskClientShim(client));

    private sealed class DurableTaskClientShim(DurableTaskClient client) : IDurableClientOperations
    {
        public async Task<DurableInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken)
        {
            var m = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken);
            return m is null ? null : new DurableInstanceState(m.InstanceId, m.Name, m.RuntimeStatus.ToString(),
                m.CreatedAt, m.LastUpdatedAt, m.SerializedInput, m.SerializedOutput, m.SerializedCustomStatus, m.FailureDetails?.ErrorMessage);
        }

        public async Task<bool> ScheduleAsync(string orchestratorName, string instanceId, object? input, CancellationToken cancellationToken)
        {
            // Every status deduplicates: an instance id that exists in any state is never started again.
            var options = new StartOrchestrationOptions(InstanceId: instanceId) { DedupeStatuses = Enum.GetNames<OrchestrationRuntimeStatus>() };
            try
            {
                await client.ScheduleNewOrchestrationInstanceAsync(orchestratorName, input, options, cancellationToken);
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
}
