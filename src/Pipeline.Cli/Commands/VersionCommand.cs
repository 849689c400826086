using System.CommandLine;
using System.Reflection;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline version</c>: the tool's version and runtime, for bug reports.</summary>
public sealed class VersionCommand : ICommandGroup
{
    public Command Build()
    {
        var cmd = new Command("version", "Print the pipeline's version and the .NET runtime it runs on.");
        cmd.SetAction(_ =>
        {
            var v = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            Console.WriteLine($"pipeline {v} (.NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription})");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
