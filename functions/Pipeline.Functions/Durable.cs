using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Pipeline.Core.Runs;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Orchestration;

namespace Pipeline.Functions;

/// <summary>Orchestrator functions: each runs the registered IOrchestrator of its name through the adapter from
/// TaskOrchestrationContext to the project's IRunContext (Pipeline.Host.AzureFunctions.DurableRunContext over
/// TaskOrchestrationContextAdapter; tests/Pipeline.Functions.Tests/Durable runs the same on the real DurableTask worker).</summary>
public sealed class Orchestrations(OrchestrationRegistry registry)
{
    [Function(RunActivityNames.AugmentationRun)]
    public Task<object?> AugmentationRun([OrchestrationTrigger] TaskOrchestrationContext context)
        => DurableRunContext.RunAsync(registry, RunActivityNames.AugmentationRun, new TaskOrchestrationContextAdapter(context));

    [Function(RunActivityNames.AugmentShardGroup)]
    public Task<object?> AugmentShardGroup([OrchestrationTrigger] TaskOrchestrationContext context)
        => DurableRunContext.RunAsync(registry, RunActivityNames.AugmentShardGroup, new TaskOrchestrationContextAdapter(context));
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

    [Function(DurableStatusProjection.ActivityName)]
    public Task<object?> ProjectRunStatus([ActivityTrigger] JsonElement input, FunctionContext context) => Run(DurableStatusProjection.ActivityName, input, context);
}
