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
