using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Engine;

namespace Pipeline.Host.AzureFunctions;

/// <summary>What the Functions app adds after AddPipeline (functions/Pipeline.Functions/Program.cs).</summary>
public static class AzureHostServiceCollectionExtensions
{
    /// <summary>The trigger handlers and the orchestrator/activity registry the functions dispatch to; removes the
    /// local durable engine's worker, since Azure's durable engine runs the orchestrations in this host.</summary>
    public static IServiceCollection AddAzureFunctionsHost(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        foreach (var d in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DurableEngineWorker)).ToList())
            services.Remove(d);
        services.TryAddSingleton(sp => new OrchestrationRegistry(sp.GetServices<IOrchestrator>(), sp.GetServices<IActivity>()));
        services.TryAddSingleton<AzureTriggerHandlers>();
        return services;
    }
}
