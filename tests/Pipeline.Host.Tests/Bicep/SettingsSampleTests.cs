using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.Host.Triggers;
using Pipeline.Storage;

namespace Pipeline.Host.Tests.Bicep;

/// <summary>local.settings.json.sample lists every key the Functions app and the local host read.</summary>
public class SettingsSampleTests
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Pipeline.sln not found");
    }

    private static HashSet<string> SampleKeys()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "local.settings.json.sample")));
        return doc.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToHashSet();
    }

    [Theory]
    [InlineData(typeof(AugmentRequestListenerOptions), "Pipeline__Triggers__AugmentQueue__")]
    [InlineData(typeof(DatasetDropListenerOptions), "Pipeline__Triggers__DatasetDrop__")]
    [InlineData(typeof(PipelineStorageOptions), "Pipeline__Storage__")]
    [InlineData(typeof(Pipeline.Host.TaskHub.TaskHubOptions), "Pipeline__Engine__")]
    [InlineData(typeof(Pipeline.Host.Runs.InferenceWorkerOptions), "Pipeline__InferenceWorker__")]
    [InlineData(typeof(Pipeline.Host.Runs.ModelProviderOptions), "Pipeline__Models__")]
    [InlineData(typeof(Pipeline.Core.Runs.AugmentationRunOptions), "Pipeline__Run__")]
    [InlineData(typeof(Pipeline.Core.Runs.RetryOptions), "Pipeline__Run__ActivityRetry__")]
    [InlineData(typeof(Pipeline.Host.Runs.Metrics.RunMetricsOptions), "Pipeline__Metrics__")]
    public void EveryBoundOptionHasASampleKey(Type options, string prefix)
    {
        var keys = SampleKeys();
        // settings are scalars; structured options (a retry policy, per-activity limits) are set in code
        foreach (var p in options.GetProperties().Where(p => p.CanWrite && (p.PropertyType.IsPrimitive || p.PropertyType == typeof(string) || p.PropertyType == typeof(TimeSpan))))
        {
            if (p.Name == "ConnectionString")
                Assert.Contains(PipelineStorageOptions.ConnectionStringKey, keys); // read as AzureWebJobsStorage
            else
                Assert.True(keys.Contains(prefix + p.Name), $"local.settings.json.sample lacks {prefix + p.Name}");
        }
    }

    [Fact]
    public void EverySettingTheBicepAppsSetIsInTheSample()
    {
        string module = File.ReadAllText(Path.Combine(RepoRoot(), "bicep", "modules", "functionapp.bicep"));
        var keys = SampleKeys();
        // identity-only settings and the client id of the managed identity exist only in Azure
        var azureOnly = new HashSet<string> { "AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId", "AZURE_CLIENT_ID" };
        var names = Regex.Matches(module, @"name: '([A-Za-z_][A-Za-z0-9_.]*)'\s*\n\s*(?:value|secretRef):").Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("Pipeline__Role", names);
        // secret names (lower-case by Container Apps rule) are not settings
        foreach (string name in names.Where(n => !azureOnly.Contains(n) && n != n.ToLowerInvariant()))
            Assert.True(keys.Contains(name), $"functionapp.bicep sets {name}, which local.settings.json.sample lacks");
    }
}
