using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Orchestration;
using Pipeline.Host.Runs.Metrics;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>Registration of the augmentation run: orchestrations, activities, model provider and (optionally) the GPU-worker role.</summary>
public static class RunServiceCollectionExtensions
{
    /// <summary>Section Pipeline:Run (AugmentationRunOptions), Pipeline:Models (cache folder), Pipeline:InferenceWorker
    /// (Enabled = the GPU role in this process; batch size, poll interval).</summary>
    public static IServiceCollection AddPipelineRuns(this IServiceCollection services, IConfiguration configuration)
    {
        var runOptions = new AugmentationRunOptions();
        var section = configuration.GetSection("Pipeline:Run");
        if (section.GetValue<int?>("ShardsPerGroup") is { } g) runOptions = runOptions with { ShardsPerGroup = g };
        if (section.GetValue<TimeSpan?>("InferenceTimeout") is { } t) runOptions = runOptions with { InferenceTimeout = t };
        if (section.GetValue<int?>("InferenceAttempts") is { } a) runOptions = runOptions with { InferenceAttempts = a };
        services.TryAddSingleton(runOptions);

        var modelOptions = new ModelProviderOptions();
        configuration.GetSection("Pipeline:Models").Bind(modelOptions);
        services.TryAddSingleton(modelOptions);
        services.TryAddSingleton<ModelProvider>();
        services.AddRunMetrics(configuration); // Pipeline:Metrics (Runs/Metrics/RunMetricsOptions.cs)

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

        var workerOptions = new InferenceWorkerOptions();
        configuration.GetSection("Pipeline:InferenceWorker").Bind(workerOptions);
        services.TryAddSingleton(workerOptions);
        if (workerOptions.Enabled)
            services.AddHostedService(sp => new InferenceWorker(sp.GetRequiredService<PipelineStorage>(), sp.GetRequiredService<ModelProvider>(),
                sp.GetRequiredService<IOrchestrationClient>(), workerOptions, sp.GetRequiredService<ILogger<InferenceWorker>>()));
        return services;
    }
}
