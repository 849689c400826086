using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Pipeline.Host.Runs.Metrics;

/// <summary>Registration of <see cref="RunMetricsOptions"/> and <see cref="RunFeatureNetworks"/>.</summary>
public static class RunMetricsServiceCollectionExtensions
{
    public static IServiceCollection AddRunMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(RunMetricsOptions.SectionName);
        (section.Get<RunMetricsOptions>() ?? new RunMetricsOptions()).Validate(); // a misconfiguration stops the host at start
        services.AddOptions<RunMetricsOptions>().Bind(section);
        services.TryAddSingleton<RunFeatureNetworks>();
        return services;
    }
}
