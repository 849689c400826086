using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Pipeline.Functions.Tests;

/// <summary>
/// The app published as infra/functions-cpu.Dockerfile publishes it: the Dockerfile's own <c>dotnet publish</c>
/// arguments, with the output folder replaced by a temporary one and <c>--no-build</c> (the test run's build is
/// reused, so publishing only copies: a few seconds). Shared by the tests of one class; deleted afterwards.
/// </summary>
public sealed class PublishedApp : IDisposable
{
    /// <summary>Where the Dockerfiles put the publish output and copy it from.</summary>
    public const string DockerPublishFolder = "/out";

    public PublishedApp()
    {
        Folder = Directory.CreateTempSubdirectory("pipeline-functions-publish-").FullName;
        var args = DockerfilePublishArguments(Path.Combine(FunctionsApp.RepoRoot, "infra", "functions-cpu.Dockerfile"));
        var run = new List<string> { "publish" };
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "-o" or "--output": run.AddRange(["-o", Folder]); i++; break;
                case "-c" or "--configuration": run.AddRange(["-c", FunctionsApp.Configuration]); i++; break;
                case "--no-restore": break; // implied by --no-build
                default: run.Add(args[i] == "functions/Pipeline.Functions/Pipeline.Functions.csproj" ? FunctionsApp.ProjectPath : args[i]); break;
            }
        }
        run.AddRange(["--no-build", "-nologo"]);
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = FunctionsApp.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in run) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Elapsed = watch.Elapsed;
        Command = "dotnet " + string.Join(' ', run);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Command} exited with {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
    }

    public string Folder { get; }

    public string Command { get; }

    public TimeSpan Elapsed { get; }

    /// <summary>The arguments after <c>dotnet publish</c> in a Dockerfile (the one publish line it has).</summary>
    public static IReadOnlyList<string> DockerfilePublishArguments(string dockerfile)
    {
        var matches = Regex.Matches(File.ReadAllText(dockerfile), @"dotnet publish (?<args>[^\\&\n]+)");
        Assert.True(matches.Count == 1, $"{dockerfile} has {matches.Count} 'dotnet publish' commands (expected one)");
        return matches[0].Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); }
        catch (IOException) { }
    }
}
