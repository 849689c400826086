using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Microsoft.Extensions.Logging;
using Pipeline.Host.Orchestration;
using Pipeline.Host.TaskHub;
using Pipeline.Host.Runs;
using Pipeline.Host.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Datasets;

namespace Pipeline.Host;

/// <summary>
/// The one DI registration both hosts call (the local host in <c>pipeline serve</c>, the Functions app in Program.cs).
/// Each area adds its services in its own <c>AddPipeline*</c> method, called from <see cref="AddPipeline"/>; add a
/// line there for a new area. Registrations use TryAdd where a host may bring its own implementation first.
/// </summary>
public static class ServiceCollectionExtensions
{
    /// <summary>Configuration section of the local triggers; Pipeline:Triggers:Enabled=false turns them off (the
    /// Functions host, whose triggers are Azure's, sets it).</summary>
    public const string TriggersSection = "Pipeline:Triggers";

    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddPipelineStorage(configuration);
        services.AddPipelineIngestion(configuration);
        services.AddPipelineTriggers(configuration);
        services.AddPipelineEngine(configuration);
        services.AddPipelineRuns(configuration);
        return services;
    }

    /// <summary>Configuration section of the local engine (<see cref="TaskHubOptions"/>): Enabled=false skips it (the
    /// Functions host); RunWorker=false keeps its <see cref="IOrchestrationClient"/> (to raise events, schedule and
    /// query) but runs no orchestrations or activities (the GPU role of <c>pipeline serve --role gpu</c>).</summary>
    public const string EngineSection = "Pipeline:Engine";

    /// <summary>The local engine: the Durable Task Framework over its Azure Storage provider in the AzureWebJobsStorage
    /// account, task hub PIPELINE_TASK_HUB as in the Functions host (the Functions host registers Durable Functions'
    /// adapter instead and skips this).</summary>
    public static IServiceCollection AddPipelineEngine(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(EngineSection);
        if (!section.GetValue("Enabled", true)) return services;
        services.AddOptions<TaskHubOptions>()
            .Bind(section)
            .PostConfigure(o =>
            {
                o.ConnectionString = GetStorageConnectionString(configuration);
                o.TaskHubName = NonEmpty(o.TaskHubName) ?? NonEmpty(configuration[TaskHubOptions.TaskHubSetting])
                                ?? NonEmpty(configuration["Values:" + TaskHubOptions.TaskHubSetting]) ?? TaskHubOptions.DefaultTaskHubName;
            })
            .Validate(o => { o.Validate(); return true; });
        // the framework logs every step at Information; warnings and errors are what a user of the local host needs
        services.AddLogging(b => b.AddFilter("DurableTask", LogLevel.Warning));
        services.AddOrchestrationRegistry();
        services.TryAddSingleton(sp => new TaskHubEngine(sp.GetRequiredService<IOptions<TaskHubOptions>>().Value, sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton<IOrchestrationClient>(sp => sp.GetRequiredService<TaskHubEngine>().Client);
        services.AddHostedService<TaskHubWorkerService>();
        return services;
    }

    /// <summary>The storage connection string: AzureWebJobsStorage (environment, or "Values" of local.settings.json as
    /// in Functions); Azurite's development storage when neither it nor an identity-based connection is configured.
    /// Refuses identity-based settings without a connection string (their reader is <see cref="GetStorageConnection"/>;
    /// what needs a connection string, the local engine, must not fall back to Azurite silently).</summary>
    public static string GetStorageConnectionString(IConfiguration configuration)
    {
        var connection = GetStorageConnection(configuration);
        return connection.ConnectionString ?? throw new InvalidOperationException(
            $"{PipelineStorageOptions.ConnectionStringKey} is identity-based ({connection.Description}), but the local engine (Durable Task " +
            $"Framework, section {EngineSection}) needs a connection string: set {PipelineStorageOptions.ConnectionStringKey} for it, or run the " +
            "Functions host, whose Durable extension reads the identity-based settings itself.");
    }

    /// <summary>
    /// The storage connection as Azure Functions reads AzureWebJobsStorage: the connection string (environment, or "Values"
    /// of local.settings.json), else the identity-based settings AzureWebJobsStorage__accountName / __blobServiceUri /
    /// __queueServiceUri with __credential / __clientId / __managedIdentityResourceId / __tenantId / __clientSecret
    /// (environment variables with "__", which configuration reads as "AzureWebJobsStorage:accountName", or "Values"
    /// keys with "__"); Azurite's development storage when none is set (<see cref="StorageConnection.FromSettings"/>).
    /// </summary>
    public static StorageConnection GetStorageConnection(IConfiguration configuration)
    {
        const string name = PipelineStorageOptions.ConnectionStringKey;
        return StorageConnection.FromSettings(name, property => property is null
                   ? NonEmpty(configuration[name]) ?? configuration["Values:" + name]
                   : NonEmpty(configuration[$"{name}:{property}"]) ?? NonEmpty(configuration[$"{name}__{property}"]) ?? configuration[$"Values:{name}__{property}"])
               ?? StorageConnection.FromConnectionString("UseDevelopmentStorage=true");
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    /// <summary><see cref="PipelineStorage"/> over the configured account (section Pipeline:Storage tunes block sizes
    /// and retries).</summary>
    public static IServiceCollection AddPipelineStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PipelineStorageOptions>()
            .Bind(configuration.GetSection("Pipeline:Storage"))
            .PostConfigure(o =>
            {
                o.Connection = GetStorageConnection(configuration);
                o.ConnectionString = o.Connection.ConnectionString ?? o.ConnectionString;
            });
        services.TryAddSingleton(sp => new PipelineStorage(sp.GetRequiredService<IOptions<PipelineStorageOptions>>().Value));
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>Configuration section of ingestion (<see cref="Pipeline.Imaging.Ingestion.DatasetIngestionOptions"/>:
    /// DecodePixels, SkipForProcessing, MaxDegreeOfParallelism, Limits:MaxFramePixels, Limits:MaxPixelDataBytes).</summary>
    public const string IngestionSection = "Pipeline:Ingestion";

    /// <summary>The validating ingestor (Pipeline.Imaging.Ingestion over the dataset's blobs).</summary>
    public static IServiceCollection AddPipelineIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<Pipeline.Imaging.Ingestion.DatasetIngestionOptions>().Bind(configuration.GetSection(IngestionSection));
        services.TryAddSingleton<IDatasetIngestor, Pipeline.Host.Ingestion.ValidatingDatasetIngestor>();
        return services;
    }

    /// <summary>The local host's queue and blob-drop listeners (hosted services), unless Pipeline:Triggers:Enabled is false.
    /// The queue listener needs an <see cref="IOrchestrationClient"/> (the local engine registers one).</summary>
    public static IServiceCollection AddPipelineTriggers(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(TriggersSection);
        services.AddOptions<AugmentRequestListenerOptions>().Bind(section.GetSection("AugmentQueue"));
        services.AddOptions<DatasetDropListenerOptions>().Bind(section.GetSection("DatasetDrop"));
        if (!section.GetValue("Enabled", true)) return services;
        services.AddHostedService(sp => new AugmentRequestListener(
            sp.GetRequiredService<PipelineStorage>(),
            sp.GetService<IOrchestrationClient>() ?? throw new InvalidOperationException(
                $"No {nameof(IOrchestrationClient)} is registered: the queue listener starts runs through it (the local engine registers one in AddPipeline; or set {TriggersSection}:Enabled=false)."),
            sp.GetRequiredService<IOptions<AugmentRequestListenerOptions>>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<AugmentRequestListener>>(),
            sp.GetService<TimeProvider>()));
        services.AddHostedService(sp => new DatasetDropListener(
            sp.GetRequiredService<PipelineStorage>(),
            sp.GetRequiredService<IDatasetIngestor>(),
            sp.GetRequiredService<IOptions<DatasetDropListenerOptions>>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<DatasetDropListener>>(),
            sp.GetService<TimeProvider>()));
        return services;
    }
}
