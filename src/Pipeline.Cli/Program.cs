using System.CommandLine;
using System.Reflection;

namespace Pipeline.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = BuildRoot();
        return await root.Parse(args).InvokeAsync();
    }

    /// <summary>The root command with every <see cref="ICommandGroup"/> of this assembly, sorted by name.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("pipeline: synthetic medical-imaging and driving-scene data by reference-guided diffusion inpainting");
        var groups = typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(ICommandGroup).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }
                        && t.GetConstructor(Type.EmptyTypes) != null)
            .Select(t => ((ICommandGroup)Activator.CreateInstance(t)!).Build())
            .OrderBy(c => c.Name, StringComparer.Ordinal);
        // Groups of the same name (e.g. "dataset" with upload from one area and validate from another) become one command.
        foreach (var c in groups)
        {
            var existing = root.Subcommands.FirstOrDefault(s => s.Name == c.Name);
            if (existing is null) { root.Subcommands.Add(c); continue; }
            foreach (var sub in c.Subcommands.ToList()) existing.Subcommands.Add(sub);
        }
        return root;
    }
}
