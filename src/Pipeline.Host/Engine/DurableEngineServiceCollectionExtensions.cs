using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.Engine;

/// <summary>DI wiring of the local engine: <c>services.AddDurableEngine(o => ...).AddOrchestrator&lt;T&gt;().AddActivity&lt;T&gt;()</c>.</summary>
public static class DurableEngineServiceCollectionExtensions
{
    /// <summary>Registers the engine, its blob store, <see cref="IOrchestrationClient"/> and a hosted worker that runs
    /// pending instances and resumes unfinished ones on start. The connection string defaults to the
    /// AzureWebJobsStorage setting, as in Functions.</summary>
    public static IServiceCollection AddDurableEngine(this IServiceCollection services, Action<DurableEngineOptions>? configure = null)
    {
        services.TryAddSingleton(sp =>
        {
            var options = new DurableEngineOptions { ConnectionString = sp.GetService<IConfiguration>()?["AzureWebJobsStorage"] };
            configure?.Invoke(options);
            options.Validate();
            return options;
        });
        services.TryAddSingleton<ICheckpointStore>(sp => new BlobCheckpointStore(sp.GetRequiredService<DurableEngineOptions>()));
        services.TryAddSingleton(sp => new OrchestrationRegistry(sp.GetServices<IOrchestrator>(), sp.GetServices<IActivity>()));
        services.TryAddSingleton(sp => new DurableEngine(sp.GetRequiredService<ICheckpointStore>(), sp.GetRequiredService<OrchestrationRegistry>(),
            sp.GetRequiredService<DurableEngineOptions>(), sp.GetService<ILogger<DurableEngine>>()));
        services.TryAddSingleton<IOrchestrationClient>(LocalClient);
        services.AddHostedService<DurableEngineWorker>();
        return services;
    }

    /// <summary>The engine as part of <c>AddPipeline</c>: options from the section Pipeline:Engine (e.g.
    /// Pipeline:Engine:ActivityConcurrency:Infer=1, Pipeline:Engine:RunWorker=false for a submit-only process), the
    /// connection string from AzureWebJobsStorage as everywhere else.</summary>
    public static IServiceCollection AddPipelineEngine(this IServiceCollection services, IConfiguration configuration)
        => services.AddDurableEngine(o =>
        {
            configuration.GetSection(ConfigurationSection).Bind(o);
            o.ConnectionString = Pipeline.Host.ServiceCollectionExtensions.GetStorageConnectionString(configuration);
        });

    /// <summary>Configuration section of the engine's options.</summary>
    public const string ConfigurationSection = "Pipeline:Engine";

    /// <summary>Takes the local engine out again (the Functions host, where Azure's Durable Functions runs the
    /// orchestrations): its worker, the engine, its store and the <see cref="IOrchestrationClient"/> it registered.
    /// The <see cref="OrchestrationRegistry"/> stays: the Functions adapters look orchestrators and activities up in it.</summary>
    public static IServiceCollection RemoveLocalDurableEngine(this IServiceCollection services)
    {
        var localClient = ((Func<IServiceProvider, IOrchestrationClient>)LocalClient).Method;
        for (int i = services.Count - 1; i >= 0; i--)
        {
            var d = services[i];
            bool remove = d.ServiceType == typeof(DurableEngine) || d.ServiceType == typeof(ICheckpointStore)
                          || (d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DurableEngineWorker))
                          || (d.ServiceType == typeof(IOrchestrationClient) && d.ImplementationFactory?.Method == localClient);
            if (remove) services.RemoveAt(i);
        }
        return services;
    }

    private static IOrchestrationClient LocalClient(IServiceProvider sp) => sp.GetRequiredService<DurableEngine>().Client;

    public static IServiceCollection AddOrchestrator<T>(this IServiceCollection services) where T : class, IOrchestrator
        => services.AddSingleton<IOrchestrator, T>();

    public static IServiceCollection AddActivity<T>(this IServiceCollection services) where T : class, IActivity
        => services.AddSingleton<IActivity, T>();
}

/// <summary>Runs the engine for the lifetime of the host.</summary>
public sealed class DurableEngineWorker(DurableEngine engine, DurableEngineOptions options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => options.RunWorker ? engine.StartAsync(cancellationToken) : Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => engine.StopAsync(cancellationToken);
}
