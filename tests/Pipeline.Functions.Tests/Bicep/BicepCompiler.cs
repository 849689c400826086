using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Pipeline.Functions.Tests.Bicep;

/// <summary>The real Bicep compiler (Azure.Bicep.CommandLine.linux-x64), which infra/setup.sh restores from NuGet and
/// links at .pipeline/bicep/bicep.</summary>
public static partial class BicepCompiler
{
    public static string BicepFolder => Path.Combine(FunctionsApp.RepoRoot, "bicep");

    public static string Executable
    {
        get
        {
            string path = Path.Combine(FunctionsApp.RepoRoot, ".pipeline", "bicep", "bicep");
            Assert.True(File.Exists(path), $"{path} does not exist: run infra/setup.sh (it restores Azure.Bicep.CommandLine.linux-x64)");
            return path;
        }
    }

    /// <summary>Runs <c>bicep {arguments}</c> from the repository root.</summary>
    public static BicepResult Run(params string[] arguments)
    {
        var psi = new ProcessStartInfo(Executable) { WorkingDirectory = FunctionsApp.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in arguments) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        string diagnostics = stdout.Result + stderr.Result;
        return new BicepResult(process.ExitCode, stdout.Result, stderr.Result,
            Diagnostic().Matches(diagnostics).Select(m => m.Value).ToList());
    }

    /// <summary>A diagnostic line as the CLI prints it: "file(line,col) : Level CODE: message".</summary>
    [GeneratedRegex(@"^.+\(\d+,\d+\) : (Error|Warning|Info) .*$", RegexOptions.Multiline)]
    private static partial Regex Diagnostic();
}

/// <param name="Diagnostics">Every error, warning and info line the compiler printed.</param>
public sealed record BicepResult(int ExitCode, string Stdout, string Stderr, IReadOnlyList<string> Diagnostics)
{
    /// <summary>Fails the test with the compiler's own words unless it exited 0 without any diagnostic.</summary>
    public BicepResult AssertClean(string what)
    {
        Assert.True(ExitCode == 0 && Diagnostics.Count == 0,
            $"{what}: exit code {ExitCode}, {Diagnostics.Count} diagnostics (fix them, or disable one with a reason listed in docs/azure.md):\n{string.Join('\n', Diagnostics)}\n{Stderr}");
        return this;
    }
}
