using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Orchestration;

namespace Pipeline.Host.AzureFunctions;

/// <summary>What the Functions app adds after AddPipeline (functions/Pipeline.Functions/Program.cs).</summary>
public static class AzureHostServiceCollectionExtensions
{
    /// <summary>The trigger handlers, the GPU role's handler and the orchestrator/activity registry the functions
    /// dispatch to. The settings turn the local engine and the local queue workers off (Pipeline__Engine__Enabled,
    /// Pipeline__Triggers__Enabled, Pipeline__InferenceWorker__Enabled = false); the local engine's worker is removed
    /// here too, since Azure's durable engine runs the orchestrations in this host.</summary>
    public static IServiceCollection AddAzureFunctionsHost(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        foreach (var d in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(Pipeline.Host.TaskHub.TaskHubWorkerService)).ToList())
            services.Remove(d);
        // keeps runs/{id}/status.json current for Durable's runs (DurableRunContext calls it)
        services.AddSingleton<IActivity, ProjectRunStatusActivity>();
        services.TryAddSingleton(sp => new OrchestrationRegistry(sp.GetServices<IOrchestrator>(), sp.GetServices<IActivity>()));
        services.TryAddSingleton<IInferenceRequestHandler, AzureInferenceRequestHandler>();
        services.TryAddSingleton<AzureTriggerHandlers>();
        return services;
    }
}
