using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.Orchestration;

/// <summary>Registration of orchestrators and activities, which both hosts run from one <see cref="OrchestrationRegistry"/>.</summary>
public static class OrchestrationServiceCollectionExtensions
{
    public static IServiceCollection AddOrchestrator<T>(this IServiceCollection services) where T : class, IOrchestrator
        => services.AddSingleton<IOrchestrator, T>();

    public static IServiceCollection AddActivity<T>(this IServiceCollection services) where T : class, IActivity
        => services.AddSingleton<IActivity, T>();

    /// <summary>The registry of every registered <see cref="IOrchestrator"/> and <see cref="IActivity"/>.</summary>
    public static IServiceCollection AddOrchestrationRegistry(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new OrchestrationRegistry(sp.GetServices<IOrchestrator>(), sp.GetServices<IActivity>()));
        return services;
    }
}
