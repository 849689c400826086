using System.Text.RegularExpressions;

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

    [Fact]
    public void TheRoleSwitchNamesFunctionsThatExist()
    {
        string main = File.ReadAllText(Path.Combine(BicepFolder, "main.bicep"));
        var functionNames = FunctionNamesInSource(Path.Combine(RepoRoot, "functions"));
        foreach (string list in new[] { "controlOnlyFunctions", "gpuOnlyFunctions" })
        {
            var m = Regex.Match(main, $@"var {list} = \[(?<items>[^\]]*)\]");
            Assert.True(m.Success, $"main.bicep has no var {list}");
            var names = Regex.Matches(m.Groups["items"].Value, "'([^']+)'").Select(x => x.Groups[1].Value).ToList();
            Assert.NotEmpty(names);
            foreach (string name in names)
                Assert.True(functionNames.Contains(name), $"main.bicep {list} names '{name}', which no [Function] in functions/ declares ({string.Join(", ", functionNames)})");
        }
    }

    /// <summary>[Function("X")] literals and [Function(Names.X)] constants declared as const string in functions/.</summary>
    private static HashSet<string> FunctionNamesInSource(string folder)
    {
        var sources = Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(File.ReadAllText).ToList();
        var constants = sources.SelectMany(s => Regex.Matches(s, @"const string (\w+) = ""([^""]+)"""))
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var names = new HashSet<string>();
        foreach (var s in sources)
            foreach (Match m in Regex.Matches(s, @"\[Function\((?:""(?<lit>[^""]+)""|(?:\w+\.)?(?<const>\w+))\)\]"))
            {
                if (m.Groups["lit"].Success) names.Add(m.Groups["lit"].Value);
                else if (constants.TryGetValue(m.Groups["const"].Value, out var v)) names.Add(v);
            }
        return names;
    }
}
