namespace Pipeline.Host.Tests.Bicep;

/// <summary>Structural checks of bicep/ (no Bicep compiler exists here; see BicepFile).</summary>
public class BicepTemplateTests
{
    private static readonly string RepoRoot = FindRepoRoot();
    private static readonly string BicepFolder = Path.Combine(RepoRoot, "bicep");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void EveryTemplateReferenceResolves()
    {
        var files = BicepChecks.LoadFolder(BicepFolder);
        Assert.Contains(files.Keys, k => k.EndsWith("main.bicep", StringComparison.Ordinal));
        Assert.True(files.Count >= 8, $"expected main, the modules and a parameters file; found {files.Count}");
        var problems = BicepChecks.Problems(files);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void TheDevParametersFileSetsEveryRequiredParameter()
    {
        var files = BicepChecks.LoadFolder(BicepFolder);
        var dev = files.Values.Single(f => f.Path.EndsWith("main.dev.bicepparam", StringComparison.Ordinal));
        Assert.Equal("main.bicep", dev.Using);
        Assert.Contains("environmentName", dev.Assigned.Keys);
        Assert.Contains("containerRegistryName", dev.Assigned.Keys);
    }

    [Fact]
    public void EveryResourceHasAnApiVersionAndEveryModuleIsUsed()
    {
        var files = BicepChecks.LoadFolder(BicepFolder);
        var templates = files.Values.Where(f => f.Path.EndsWith(".bicep", StringComparison.Ordinal)).ToList();
        Assert.All(templates.SelectMany(t => t.Resources.Values), r => Assert.False(string.IsNullOrEmpty(r.ApiVersion), r.Name));
        var main = templates.Single(t => t.Path.EndsWith(Path.DirectorySeparatorChar + "main.bicep", StringComparison.Ordinal));
        var referenced = main.Modules.Values.Select(m => BicepChecks.Resolve(main.Path, m.RelativePath)).ToHashSet();
        foreach (var module in templates.Where(t => t != main))
            Assert.True(referenced.Contains(module.Path), $"{module.Path} is not used by main.bicep");
    }

    [Fact]
    public void TheStorageModuleCreatesTheContainersAndQueuesThePipelineUses()
    {
        string storage = File.ReadAllText(Path.Combine(BicepFolder, "modules", "storage.bicep"));
        foreach (string name in new[] { "'datasets'", "'runs'", "'models'", "'augment-requests'", "'augment-requests-poison'", "'inference-requests'", "'inference-requests-poison'" })
            Assert.Contains(name, storage);
        Assert.Contains("allowSharedKeyAccess: !useManagedIdentity", storage);
    }
}
