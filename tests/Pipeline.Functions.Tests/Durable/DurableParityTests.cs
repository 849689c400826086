using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Ingestion;
using Pipeline.Host.Local;
using Pipeline.Host.Orchestration;
using Pipeline.Imaging.Synthetic;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Pipeline.Storage.Queues;

namespace Pipeline.Functions.Tests.Durable;

/// <summary>
/// The real AugmentationRun (real activities, the tiny test model, a synthetic dataset on Azurite) run once by the
/// local host and once by the Functions app's code on the real DurableTask worker (the in-process test host standing
/// in for Azure's Durable engine): the same request gives byte-identical runs/{id}/out/ blobs, and both hosts leave
/// the same final status.json. Each host gets its own Azurite (the same run id on both; outputs depend on it).
/// </summary>
public sealed class DurableParityTests : IAsyncLifetime
{
    private const string Dataset = "mammo";
    private const string RunId = "parity-1";
    private readonly string _datasetFolder = Path.Combine(Path.GetTempPath(), $"parity-mammo-{Guid.NewGuid():N}");
    private AzuriteServer _localAzurite = null!;
    private AzuriteServer _azureAzurite = null!;

    private static string TestModel => Path.Combine(FunctionsApp.RepoRoot, "training", "test_models", "bench_inpaint");

    private static AugmentationRequest Request() => new()
    {
        RunId = RunId, Dataset = Dataset, Model = TestModel, Seed = 5, ShardSize = 2,
        Tasks = [new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 2 }, new AugmentationTask { Mode = TaskMode.Insertion, Count = 1 }],
        Sampler = new SamplerSettings { Scheduler = SchedulerKind.Ddim, Steps = 3, Guidance = 2.0 },
    };

    public async Task InitializeAsync()
    {
        await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = 6, Seed = 7, Rows = 512, Columns = 416 }, _datasetFolder);
        _localAzurite = await AzuriteServer.StartAsync();
        _azureAzurite = await AzuriteServer.StartAsync();
        foreach (var azurite in new[] { _localAzurite, _azureAzurite })
            await UploadAsync(new PipelineStorage(azurite.ConnectionString));
    }

    private async Task UploadAsync(PipelineStorage storage)
    {
        await storage.EnsureCreatedAsync();
        var dataset = storage.Dataset(Dataset);
        foreach (var file in Directory.EnumerateFiles(_datasetFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            await using var s = File.OpenRead(file);
            await dataset.UploadAsync(Path.GetRelativePath(_datasetFolder, file).Replace('\\', '/'), s);
        }
        await new ValidatingDatasetIngestor(storage).IngestAsync(Dataset, CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        _localAzurite.Dispose();
        _azureAzurite.Dispose();
        try { Directory.Delete(_datasetFolder, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_same_request_gives_byte_identical_outputs_and_the_same_final_status_on_both_hosts()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var local = await RunLocallyAsync(cts.Token);
        var azure = await RunOnDurableWorkerAsync(cts.Token);
        Assert.True(local.State is RunState.Completed or RunState.CompletedWithFailures, $"local run ended {local.State}: {local.Error}");
        Assert.Equal((local.State, local.Error), (azure.State, azure.Error));

        var localOut = await OutputsAsync(new PipelineStorage(_localAzurite.ConnectionString));
        var azureOut = await OutputsAsync(new PipelineStorage(_azureAzurite.ConnectionString));
        Assert.Contains(localOut.Keys, k => k.EndsWith(".dcm", StringComparison.Ordinal));
        Assert.Equal(localOut.Keys.Order(), azureOut.Keys.Order());
        foreach (var (name, bytes) in localOut)
            Assert.True(bytes.AsSpan().SequenceEqual(azureOut[name]), $"out/{name} differs between the hosts");

        // status.json: the Functions side keeps it current through the status projection, as the local host does
        var localStatus = await new PipelineStorage(_localAzurite.ConnectionString).Run(RunId).ReadStatusAsync();
        var azureStatus = await new PipelineStorage(_azureAzurite.ConnectionString).Run(RunId).ReadStatusAsync();
        Assert.NotNull(localStatus);
        Assert.NotNull(azureStatus);
        Assert.Equal((localStatus.State, localStatus.Progress, localStatus.Stage), (azureStatus.State, azureStatus.Progress, azureStatus.Stage));
    }

    private async Task<OrchestrationInstance> RunLocallyAsync(CancellationToken cancellationToken)
    {
        await using var host = await LocalPipelineHost.StartAsync(_localAzurite.ConnectionString, new Dictionary<string, string?>
        {
            ["Pipeline:Engine:PollInterval"] = "00:00:00.200",
            ["Pipeline:InferenceWorker:PollInterval"] = "00:00:00.200",
        });
        await host.SubmitAsync(Request(), cancellationToken);
        while (await host.Orchestrations.GetInstanceAsync(RunId, cancellationToken) is null)
            await Task.Delay(200, cancellationToken);
        return await host.Orchestrations.WaitForCompletionAsync(RunId, cancellationToken);
    }

    /// <summary>The Functions app's wiring (Program.cs: AddPipeline with the local triggers, engine and GPU worker off,
    /// then AddAzureFunctionsHost), its functions' bodies on the real DurableTask worker, the augment-requests message
    /// through the queue function's handler and the GPU role's handler consuming inference-requests.</summary>
    private async Task<OrchestrationInstance> RunOnDurableWorkerAsync(CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = _azureAzurite.ConnectionString,
            ["Pipeline:Triggers:Enabled"] = "false",
            ["Pipeline:Engine:Enabled"] = "false",
            ["Pipeline:InferenceWorker:Enabled"] = "false",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddPipeline(configuration);
        services.AddAzureFunctionsHost();
        await using var provider = services.BuildServiceProvider();
        var storage = provider.GetRequiredService<PipelineStorage>();
        await storage.EnsureCreatedAsync(cancellationToken);
        var handlers = provider.GetRequiredService<AzureTriggerHandlers>();

        await using var durable = await DurableWorkerHost.StartAsync(provider.GetRequiredService<OrchestrationRegistry>());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var gpu = GpuRoleAsync(storage, handlers, durable.Orchestrations, stop.Token);
        try
        {
            await handlers.AugmentRequestAsync(BinaryData.FromString(PipelineJson.Serialize(Request())), "message-1", 1, durable.Orchestrations, cancellationToken);
            return await durable.Orchestrations.WaitForCompletionAsync(RunId, cancellationToken);
        }
        finally
        {
            await stop.CancelAsync();
            await gpu;
        }
    }

    /// <summary>The GPU role's queue function: each inference-requests message to its handler, deleted when it returns.</summary>
    private static async Task GpuRoleAsync(PipelineStorage storage, AzureTriggerHandlers handlers, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(StorageLayout.InferenceRequestsQueue);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var message = (await queue.ReceiveMessageAsync(TimeSpan.FromMinutes(5), cancellationToken)).Value;
                if (message is null) { await Task.Delay(100, cancellationToken); continue; }
                await handlers.InferenceRequestAsync(message.Body, message.MessageId, message.DequeueCount, orchestrations, cancellationToken);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
        }
    }

    private static async Task<Dictionary<string, byte[]>> OutputsAsync(PipelineStorage storage)
    {
        var outputs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await foreach (var e in storage.Run(RunId).ListAsync("out/"))
            outputs[e.Path.Name] = (await storage.ReadAsync(e.Path))!.ToArray();
        return outputs;
    }
}
