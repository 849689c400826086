using System.Text.RegularExpressions;
using Pipeline.Host.AzureFunctions;

namespace Pipeline.Functions.Tests;

/// <summary>bicep/main.bicep turns each role's triggers off in the other app (AzureWebJobs.&lt;name&gt;.Disabled):
/// the names must be functions the Functions host indexes, or the switch silently does nothing.</summary>
public class RoleSwitchTests
{
    private static IReadOnlyList<string> BicepList(string list)
    {
        string main = File.ReadAllText(Path.Combine(FunctionsApp.RepoRoot, "bicep", "main.bicep"));
        var m = Regex.Match(main, $@"var {list} = \[(?<items>[^\]]*)\]");
        Assert.True(m.Success, $"main.bicep has no var {list}");
        return Regex.Matches(m.Groups["items"].Value, "'([^']+)'").Select(x => x.Groups[1].Value).ToList();
    }

    [Fact]
    public void The_role_switch_names_indexed_trigger_functions_and_covers_every_trigger()
    {
        var indexed = FunctionsApp.ReadMetadata().ToDictionary(f => f.Name);
        var controlOnly = BicepList("controlOnlyFunctions");
        var gpuOnly = BicepList("gpuOnlyFunctions");
        foreach (string name in controlOnly.Concat(gpuOnly))
            Assert.True(indexed.ContainsKey(name), $"main.bicep's role switch names '{name}', which is not in functions.metadata ({string.Join(", ", indexed.Keys)})");
        // every trigger that starts work from outside (queues, blobs, the run API) belongs to exactly one role
        var external = indexed.Values.Where(f => f.Trigger.Type is "queueTrigger" or "blobTrigger" || f.Name is FunctionNames.GetRun or FunctionNames.CancelRun)
            .Select(f => f.Name).Order().ToList();
        Assert.Equal(external, controlOnly.Concat(gpuOnly).Order().ToList());
        Assert.Equal([FunctionNames.InferenceRequests], gpuOnly);
    }
}
