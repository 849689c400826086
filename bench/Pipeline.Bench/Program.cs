namespace Pipeline.Bench;

/// <summary>
/// Side-by-side benchmarks: <c>dotnet run -c Release --project bench/Pipeline.Bench -- &lt;name&gt; [options]</c>.
/// Each benchmark is an <see cref="IBenchmark"/> in this assembly; results are printed as a table and written to
/// bench/results/&lt;name&gt;.json.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var all = typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
            .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
            .OrderBy(b => b.Name, StringComparer.Ordinal).ToList();
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("usage: bench <name> [args]   (run from the repository root)\n\nbenchmarks:");
            foreach (var b in all) Console.WriteLine($"  {b.Name,-20} {b.Description}");
            return 0;
        }
        var bench = all.FirstOrDefault(b => b.Name == args[0]);
        if (bench is null) { Console.Error.WriteLine($"unknown benchmark '{args[0]}'; run with --help for the list"); return 2; }
        return await bench.RunAsync(args.Skip(1).ToArray());
    }
}

/// <summary>One side-by-side benchmark.</summary>
public interface IBenchmark
{
    string Name { get; }
    string Description { get; }
    Task<int> RunAsync(string[] args);
}
