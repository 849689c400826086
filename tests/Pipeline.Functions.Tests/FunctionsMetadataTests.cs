using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host;
using Pipeline.Host.AzureFunctions;
using Pipeline.Storage;

namespace Pipeline.Functions.Tests;

/// <summary>The functions.metadata the Functions SDK generated for the app: what the Functions host will index. A
/// function that is missing, renamed or bound to the wrong trigger fails here, not in Azure.</summary>
public class FunctionsMetadataTests
{
    private static readonly IReadOnlyList<FunctionEntry> Functions = FunctionsApp.ReadMetadata();

    private static FunctionEntry Function(string name)
    {
        var matches = Functions.Where(f => f.Name == name).ToList();
        Assert.True(matches.Count == 1, $"functions.metadata has {matches.Count} functions named '{name}' (it has: {string.Join(", ", Functions.Select(f => f.Name))})");
        return matches[0];
    }

    /// <summary>The orchestrators and activities the product registers, as the Functions app's Program.cs does
    /// (AddPipeline, then the Azure host's additions), read from DI through the port's interfaces.</summary>
    private static (IReadOnlyList<string> Orchestrators, IReadOnlyList<string> Activities) Registered()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // the Functions app's settings (bicep/modules/functionapp.bicep): Azure's triggers and engine, not the local ones
            ["Pipeline:Triggers:Enabled"] = "false",
            ["Pipeline:Engine:Enabled"] = "false",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddPipeline(configuration);
        services.AddAzureFunctionsHost();
        using var sp = services.BuildServiceProvider();
        return (sp.GetServices<IOrchestrator>().Select(o => o.Name).ToList(), sp.GetServices<IActivity>().Select(a => a.Name).ToList());
    }

    [Fact]
    public void Every_orchestrator_the_product_registers_is_an_orchestration_trigger_function_of_its_name()
    {
        var (orchestrators, _) = Registered();
        Assert.Contains(RunActivityNames.AugmentationRun, orchestrators);
        Assert.Contains(RunActivityNames.AugmentShardGroup, orchestrators);
        foreach (string name in orchestrators)
        {
            var trigger = Function(name).Trigger;
            Assert.Equal(("orchestrationTrigger", "In"), (trigger.Type, trigger.Direction));
        }
    }

    [Fact]
    public void Every_activity_the_run_calls_is_an_activity_trigger_function_of_its_name()
    {
        var (_, activities) = Registered();
        string[] runActivities =
        [
            RunActivityNames.Plan, RunActivityNames.Estimate, RunActivityNames.Preprocess, RunActivityNames.RequestInference,
            RunActivityNames.Compose, RunActivityNames.Measure, RunActivityNames.RecordShardFailure, RunActivityNames.Aggregate,
            RunActivityNames.Report,
        ];
        Assert.Empty(runActivities.Except(activities));
        foreach (string name in activities)
        {
            var trigger = Function(name).Trigger;
            Assert.Equal(("activityTrigger", "In"), (trigger.Type, trigger.Direction));
        }
    }

    [Fact]
    public void No_function_is_bound_to_an_orchestrator_or_activity_that_is_not_registered()
    {
        var (orchestrators, activities) = Registered();
        var orchestrationFunctions = Functions.Where(f => f.Trigger.Type == "orchestrationTrigger").Select(f => f.Name);
        var activityFunctions = Functions.Where(f => f.Trigger.Type == "activityTrigger").Select(f => f.Name);
        Assert.Empty(orchestrationFunctions.Except(orchestrators));
        Assert.Empty(activityFunctions.Except(activities));
    }

    [Fact]
    public void Both_queue_triggers_listen_on_the_queues_of_StorageLayout_with_a_durable_client()
    {
        var augment = Function(FunctionNames.AugmentRequests);
        Assert.Equal(("queueTrigger", StorageLayout.AugmentRequestsQueue), (augment.Trigger.Type, augment.Trigger.String("queueName")));
        Assert.Null(augment.Binding("durableClient").String("taskHub")); // the app's own task hub

        var inference = Function(FunctionNames.InferenceRequests);
        Assert.Equal(("queueTrigger", StorageLayout.InferenceRequestsQueue), (inference.Trigger.Type, inference.Trigger.String("queueName")));
        // the GPU app raises events on the control app's orchestrations: its client names the control task hub
        Assert.Equal("%PIPELINE_CONTROL_TASK_HUB%", inference.Binding("durableClient").String("taskHub"));
    }

    [Fact]
    public void The_blob_trigger_watches_every_file_of_every_dataset()
    {
        var blob = Function(FunctionNames.DatasetBlobCreated).Trigger;
        Assert.Equal("blobTrigger", blob.Type);
        Assert.Equal($"{StorageLayout.DatasetsContainer}/{{name}}/{{file}}", blob.String("path"));
    }

    [Theory]
    [InlineData(FunctionNames.GetRun, "get", "runs/{id}")]
    [InlineData(FunctionNames.CancelRun, "post", "runs/{id}/cancel")]
    public void The_run_status_and_cancel_endpoints_are_http_functions_with_a_key_and_a_durable_client(string name, string method, string route)
    {
        var f = Function(name);
        Assert.Equal("httpTrigger", f.Trigger.Type);
        Assert.Equal([method], f.Trigger.Strings("methods"));
        Assert.Equal(route, f.Trigger.String("route"));
        Assert.Equal("Function", f.Trigger.String("authLevel"));
        Assert.Equal(("$return", "Out"), (f.Binding("http").Name, f.Binding("http").Direction));
        Assert.Equal("In", f.Binding("durableClient").Direction);
    }

    [Fact]
    public void The_health_probe_is_anonymous_as_the_container_probes_need()
    {
        var health = Function(FunctionNames.Health).Trigger;
        Assert.Equal(("httpTrigger", "Anonymous", "healthz"), (health.Type, health.String("authLevel"), health.String("route")));
    }

    [Fact]
    public void Every_function_has_a_known_name_and_runs_in_the_app_assembly()
    {
        var known = typeof(FunctionNames).GetFields().Select(f => (string)f.GetRawConstantValue()!)
            .Concat(Registered().Orchestrators).Concat(Registered().Activities).ToHashSet();
        foreach (var f in Functions)
        {
            Assert.True(known.Contains(f.Name), $"function '{f.Name}' is neither in FunctionNames nor a registered orchestrator or activity");
            Assert.Equal("Pipeline.Functions.dll", f.ScriptFile);
            Assert.StartsWith("Pipeline.Functions.", f.EntryPoint, StringComparison.Ordinal);
        }
        Assert.Equal(Functions.Count, Functions.Select(f => f.Name).Distinct().Count());
    }
}
