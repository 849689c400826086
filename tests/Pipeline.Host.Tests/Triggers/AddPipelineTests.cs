using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Datasets;

namespace Pipeline.Host.Tests.Triggers;

public class AddPipelineTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, bool withClient = true)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>));
        if (withClient) services.AddSingleton<IOrchestrationClient, RecordingOrchestrationClient>();
        services.AddPipeline(configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>Only this area's registrations (other areas add hosted services of their own to AddPipeline).</summary>
    private static ServiceProvider TriggersOnly(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>));
        services.AddPipelineStorage(configuration).AddPipelineIngestion(configuration).AddPipelineTriggers(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task Registers_storage_from_AzureWebJobsStorage_the_validating_ingestor_and_both_listeners()
    {
        const string cs = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:2/devstoreaccount1;";
        await using var sp = Build(new() { ["AzureWebJobsStorage"] = cs, ["Pipeline:Triggers:AugmentQueue:MaxDequeueCount"] = "7" });
        Assert.Equal(cs, sp.GetRequiredService<PipelineStorage>().Options.ConnectionString);
        Assert.IsType<Pipeline.Host.Ingestion.ValidatingDatasetIngestor>(sp.GetRequiredService<IDatasetIngestor>());
        var hosted = sp.GetServices<IHostedService>().Select(h => h.GetType()).ToList();
        Assert.Contains(typeof(AugmentRequestListener), hosted);
        Assert.Contains(typeof(DatasetDropListener), hosted);
        Assert.IsType<RecordingOrchestrationClient>(sp.GetRequiredService<IOrchestrationClient>()); // registered first, kept
        Assert.Equal(7, sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<AugmentRequestListenerOptions>>().Value.MaxDequeueCount);
    }

    [Fact]
    public async Task Functions_style_values_and_development_storage_default_are_understood()
    {
        await using var fromValues = Build(new() { ["Values:AzureWebJobsStorage"] = "UseDevelopmentStorage=true" });
        Assert.Equal("UseDevelopmentStorage=true", fromValues.GetRequiredService<PipelineStorage>().Options.ConnectionString);
        await using var unset = Build(new());
        Assert.Equal("UseDevelopmentStorage=true", unset.GetRequiredService<PipelineStorage>().Options.ConnectionString);
    }

    [Fact]
    public async Task Identity_based_storage_settings_give_token_clients_and_the_local_engine_refuses_them_by_name()
    {
        // as environment variables arrive (AzureWebJobsStorage__accountName -> AzureWebJobsStorage:accountName), engine off as in functions/
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage:accountName"] = "stpipelinedev", ["AzureWebJobsStorage:credential"] = "managedidentity",
            ["AzureWebJobsStorage:clientId"] = "00000000-0000-0000-0000-0000000000aa", ["Pipeline:Engine:Enabled"] = "false",
        };
        await using var sp = Build(settings);
        var storage = sp.GetRequiredService<PipelineStorage>();
        Assert.Equal(StorageCredentialKind.ManagedIdentity, storage.Connection.CredentialKind);
        Assert.Equal(new Uri("https://stpipelinedev.blob.core.windows.net"), storage.BlobService.Uri);
        Assert.Equal(new Uri("https://stpipelinedev.queue.core.windows.net"), storage.QueueService.Uri);

        // "Values" of local.settings.json keep the "__" form
        await using var fromValues = Build(new() { ["Values:AzureWebJobsStorage__accountName"] = "stother", ["Pipeline:Engine:Enabled"] = "false" });
        Assert.Equal(StorageCredentialKind.Default, fromValues.GetRequiredService<PipelineStorage>().Connection.CredentialKind);
        Assert.Equal("stother", fromValues.GetRequiredService<PipelineStorage>().BlobService.AccountName);

        // the local engine needs a connection string and says so instead of falling back to Azurite
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var e = Assert.Throws<InvalidOperationException>(() => ServiceCollectionExtensions.GetStorageConnectionString(configuration));
        Assert.Contains("identity-based", e.Message);
        Assert.Contains("stpipelinedev", e.Message);
    }

    [Fact]
    public async Task Triggers_can_be_turned_off_and_a_missing_engine_is_named()
    {
        await using var off = TriggersOnly(new() { ["Pipeline:Triggers:Enabled"] = "false" });
        Assert.Empty(off.GetServices<IHostedService>());
        // the triggers alone, without an engine: the error names what is missing
        await using var noEngine = TriggersOnly(new());
        var e = Assert.Throws<InvalidOperationException>(() => noEngine.GetServices<IHostedService>().ToList());
        Assert.Contains(nameof(IOrchestrationClient), e.Message);
    }

    [Fact]
    public async Task An_ingestor_registered_first_replaces_the_default()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IDatasetIngestor, NoIngestor>();
        services.AddPipeline(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Pipeline:Triggers:Enabled"] = "false" }).Build());
        await using var sp = services.BuildServiceProvider();
        Assert.IsType<NoIngestor>(sp.GetRequiredService<IDatasetIngestor>());
    }

    private sealed class NoIngestor : IDatasetIngestor
    {
        public Task IngestAsync(string datasetName, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
