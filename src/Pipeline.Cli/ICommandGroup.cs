using System.CommandLine;

namespace Pipeline.Cli;

/// <summary>
/// One verb (or verb group) of the <c>pipeline</c> command. Every non-abstract type implementing this with a public
/// parameterless constructor is added to the root command by <see cref="Program"/>, so a verb is added by adding one
/// file under Commands/.
/// </summary>
public interface ICommandGroup
{
    /// <summary>The command (with its subcommands, options and action).</summary>
    Command Build();
}

/// <summary>Exit codes scripts can rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The operation ran and reported failures (e.g. a run completed with failed items, a validation found errors).</summary>
    public const int Failures = 1;
    /// <summary>Bad command line or bad input file.</summary>
    public const int Usage = 2;
    /// <summary>A resource was not found (run, dataset, model).</summary>
    public const int NotFound = 3;
    /// <summary>Storage or another dependency was unreachable.</summary>
    public const int Unavailable = 4;
    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Cancelled = 130;
}
