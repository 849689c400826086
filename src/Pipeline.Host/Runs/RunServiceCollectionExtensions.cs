using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pipeline.Core.Domains;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Orchestration;
using Pipeline.Host.Runs.Metrics;
using Pipeline.Mammography;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>Registration of the augmentation run: orchestrations, activities, the domains, model provider and (optionally) the GPU-worker role.</summary>
public static class RunServiceCollectionExtensions
{
    /// <summary>Section Pipeline:Run (AugmentationRunOptions), Pipeline:Models (cache folder), Pipeline:InferenceWorker
    /// (Enabled = the GPU role in this process; batch size, poll interval).</summary>
    public static IServiceCollection AddPipelineRuns(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AugmentationRunOptions>().Bind(configuration.GetSection(AugmentationRunOptions.SectionName));
        services.AddOptions<ModelProviderOptions>().Bind(configuration.GetSection(ModelProviderOptions.SectionName));
        services.TryAddSingleton<ModelProvider>();
        services.AddRunMetrics(configuration); // Pipeline:Metrics (Runs/Metrics/RunMetricsOptions.cs)
        // The domains (docs/architecture.md, "The domain seam"); the first registered is the default.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunDomain, MammographyDomain>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunDomain, Pipeline.Driving.Runs.DrivingDomain>());
        services.TryAddSingleton<RunDomains>();

        services.AddOrchestrator<AugmentationRunOrchestrator>();
        services.AddOrchestrator<AugmentShardGroupOrchestrator>();
        services.AddActivity<PlanActivity>();
        services.AddActivity<EstimateActivity>();
        services.AddActivity<PreprocessActivity>();
        services.AddActivity<RequestInferenceActivity>();
        services.AddActivity<ComposeActivity>();
        services.AddActivity<MeasureActivity>();
        services.AddActivity<RecordShardFailureActivity>();
        services.AddActivity<AggregateActivity>();
        services.AddActivity<ReportActivity>();

        var workerSection = configuration.GetSection(InferenceWorkerOptions.SectionName);
        services.AddOptions<InferenceWorkerOptions>().Bind(workerSection);
        services.TryAddSingleton<ShardSampler>();
        if (workerSection.Get<InferenceWorkerOptions>()?.Enabled ?? new InferenceWorkerOptions().Enabled)
            services.AddHostedService<InferenceWorker>();
        return services;
    }
}
