using System.Reflection;
using System.Text.Json;

namespace Pipeline.Functions.Tests;

/// <summary>The Functions app as built by this configuration: its project, its output folder and what the Functions
/// SDK generated there (the paths come from the test project's AssemblyMetadata).</summary>
public static class FunctionsApp
{
    public static string ProjectPath => Metadata("FunctionsProject");

    public static string OutputFolder => Metadata("FunctionsOutput");

    public static string Configuration => Metadata("Configuration");

    public static string RepoRoot => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(ProjectPath)!, "..", ".."));

    /// <summary>Every function of a functions.metadata file (the output folder's unless <paramref name="folder"/>).</summary>
    public static IReadOnlyList<FunctionEntry> ReadMetadata(string? folder = null)
    {
        string path = Path.Combine(folder ?? OutputFolder, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} does not exist: the Functions SDK did not generate it (is functions/Pipeline.Functions built in {Configuration}?)");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().Select(f => new FunctionEntry(
            f.GetProperty("name").GetString()!,
            f.GetProperty("entryPoint").GetString()!,
            f.GetProperty("scriptFile").GetString()!,
            f.GetProperty("bindings").EnumerateArray().Select(b => new FunctionBinding(
                b.GetProperty("name").GetString()!, b.GetProperty("type").GetString()!, b.GetProperty("direction").GetString()!, b.Clone())).ToList()))
            .ToList();
    }

    private static string Metadata(string key) =>
        typeof(FunctionsApp).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

/// <summary>One function of functions.metadata.</summary>
public sealed record FunctionEntry(string Name, string EntryPoint, string ScriptFile, IReadOnlyList<FunctionBinding> Bindings)
{
    /// <summary>The one binding of <paramref name="type"/>; fails the test when there is none or more than one.</summary>
    public FunctionBinding Binding(string type)
    {
        var matches = Bindings.Where(b => b.Type == type).ToList();
        Assert.True(matches.Count == 1, $"function {Name} has {matches.Count} '{type}' bindings ({string.Join(", ", Bindings.Select(b => b.Type))})");
        return matches[0];
    }

    /// <summary>The trigger binding (every function has exactly one).</summary>
    public FunctionBinding Trigger
    {
        get
        {
            var triggers = Bindings.Where(b => b.Type.EndsWith("Trigger", StringComparison.Ordinal)).ToList();
            Assert.True(triggers.Count == 1, $"function {Name} has {triggers.Count} triggers");
            return triggers[0];
        }
    }
}

/// <summary>One binding of a function, with its raw JSON for the type-specific properties.</summary>
public sealed record FunctionBinding(string Name, string Type, string Direction, JsonElement Json)
{
    public string? String(string property) =>
        Json.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public IReadOnlyList<string> Strings(string property) =>
        Json.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => e.GetString()!).ToList() : [];
}
