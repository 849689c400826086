using Pipeline.Cli;

namespace Pipeline.Cli.Tests;

/// <summary>Runs a <c>pipeline</c> command line through the parser with stdout and stderr captured (tests using it share
/// the "Console" collection, so they never swap the console at the same time).</summary>
internal static class CliConsole
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var (o, e) = (Console.Out, Console.Error);
        var (so, se) = (new StringWriter(), new StringWriter());
        Console.SetOut(so); Console.SetError(se);
        try { return (await Program.BuildRoot().Parse(args).InvokeAsync(), so.ToString(), se.ToString()); }
        finally { Console.SetOut(o); Console.SetError(e); }
    }
}
