using System.CommandLine;
using Pipeline.Core.Contracts;
using Pipeline.Storage;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline status &lt;runId&gt;</c>: a run's status.json as a table, or followed live with a progress bar.
/// Exit code: 0 completed (or still going without --watch), 1 ended badly (failed, rejected, cancelled, completed
/// with failures), 3 no such run.</summary>
public sealed class StatusCommand : ICommandGroup
{
    public Command Build()
    {
        var cmd = new Command("status", "Show a run's status (runs/{runId}/status.json); --watch follows it with a progress bar until it ends.");
        var runId = new Argument<string>("runId") { Description = "The run id printed by submit." };
        var watch = new Option<bool>("--watch", "-w") { Description = "Follow the run until it ends (waits for a run not yet picked up)." };
        var json = new Option<bool>("--json") { Description = "Print status.json as it is." };
        var timeout = new Option<int>("--timeout") { Description = "With --watch: give up after this many seconds (exit 4).", DefaultValueFactory = _ => 86400 };
        cmd.Arguments.Add(runId);
        cmd.Options.Add(watch);
        cmd.Options.Add(json);
        cmd.Options.Add(timeout);
        cmd.SetAction(async (parse, ct) =>
        {
            string id = parse.GetValue(runId)!;
            if (!ResourceNames.IsValidRunId(id) && !id.StartsWith("rejected-", StringComparison.Ordinal))
            {
                Console.Error.WriteLine($"'{id}' is not a run id (lowercase letters, digits and dashes).");
                return ExitCodes.Usage;
            }
            var storage = await CliStorage.ConnectAsync(ct);
            if (storage is null) return ExitCodes.Unavailable;
            try
            {
                if (parse.GetValue(watch)) return await FollowAsync(storage, id, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct);
                var status = await storage.Run(id).ReadStatusAsync(ct);
                if (status is null)
                {
                    Console.Error.WriteLine($"No status for run '{id}' (not submitted, or not yet picked up by `pipeline serve`).");
                    return ExitCodes.NotFound;
                }
                if (parse.GetValue(json)) Console.WriteLine(PipelineJson.Serialize(status));
                else Print(status);
                return ExitCode(status.State);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return ExitCodes.Cancelled;
            }
            catch (Exception e) when (e is Azure.RequestFailedException or AggregateException or HttpRequestException or System.Text.Json.JsonException)
            {
                return CliStorage.Report(e);
            }
        });
        return cmd;
    }

    public static bool IsFinal(RunState s) => s is RunState.Completed or RunState.CompletedWithFailures or RunState.Failed or RunState.Cancelled or RunState.Rejected;

    public static int ExitCode(RunState s) => s switch
    {
        RunState.Completed or RunState.Pending or RunState.Running => ExitCodes.Ok,
        _ => ExitCodes.Failures,
    };

    /// <summary>Polls status.json with a live progress bar until the run ends; prints the final table.</summary>
    public static async Task<int> FollowAsync(PipelineStorage storage, string runId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var run = storage.Run(runId);
        var deadline = DateTime.UtcNow + timeout;
        RunStatus? last = null;
        bool interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsErrorRedirected;
        async Task<RunStatus?> PollUntilFinalAsync(Action<RunStatus>? onUpdate)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var s = await run.ReadStatusAsync(cancellationToken);
                if (s is not null)
                {
                    if (!interactive && (last is null || s.State != last.State || s.Progress != last.Progress))
                        Console.Error.WriteLine($"[{s.UpdatedAt:HH:mm:ss}] {s.State} {s.Stage} {(s.Progress is { } p ? $"{p.Completed + p.Failed}/{p.Total}" : "")}");
                    last = s;
                    onUpdate?.Invoke(s);
                    if (IsFinal(s.State)) return s;
                }
                if (DateTime.UtcNow > deadline) return null;
                await Task.Delay(500, cancellationToken);
            }
        }

        RunStatus? final;
        if (interactive)
        {
            final = await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask($"{runId}: waiting", maxValue: 1);
                    var result = await PollUntilFinalAsync(s =>
                    {
                        task.Description = $"{runId}: {s.State}{(s.Stage is null ? "" : $" ({s.Stage})")}";
                        if (s.Progress is { Total: > 0 } p) { task.MaxValue = p.Total; task.Value = p.Completed + p.Failed; }
                        if (IsFinal(s.State)) task.Value = task.MaxValue;
                    });
                    task.StopTask();
                    return result;
                });
        }
        else final = await PollUntilFinalAsync(null);

        if (final is null)
        {
            Console.Error.WriteLine(last is null
                ? $"Run '{runId}' did not appear within {timeout.TotalSeconds:0} s (is `pipeline serve` running?)."
                : $"Run '{runId}' did not end within {timeout.TotalSeconds:0} s; last state {last.State}.");
            return ExitCodes.Unavailable;
        }
        Print(final);
        return ExitCode(final.State);
    }

    public static void Print(RunStatus s)
    {
        var table = new Table().Border(TableBorder.Rounded).HideHeaders().AddColumn("").AddColumn("");
        string color = s.State switch
        {
            RunState.Completed => "green",
            RunState.Running or RunState.Pending => "blue",
            RunState.CompletedWithFailures => "yellow",
            _ => "red",
        };
        table.AddRow("run", Markup.Escape(s.RunId));
        table.AddRow("state", $"[{color}]{s.State}[/]");
        if (s.Stage is not null) table.AddRow("stage", Markup.Escape(s.Stage));
        if (s.Progress is { } p) table.AddRow("items", $"{p.Completed} done, {p.Failed} failed, {p.Total} total");
        if (s.CreatedAt != default) table.AddRow("created", s.CreatedAt.ToString("u"));
        if (s.UpdatedAt != default) table.AddRow("updated", s.UpdatedAt.ToString("u"));
        if (s.CustomStatus is { } c) table.AddRow("custom", Markup.Escape(c.GetRawText()));
        if (s.Error is not null) table.AddRow("error", $"[red]{Markup.Escape(s.Error)}[/]");
        foreach (var problem in s.Problems) table.AddRow("problem", Markup.Escape(problem));
        AnsiConsole.Write(table);
    }
}
