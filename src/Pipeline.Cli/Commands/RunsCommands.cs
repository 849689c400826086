using System.CommandLine;
using Pipeline.Core.Contracts;
using Pipeline.Storage;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline runs list</c>: every run under runs/ with its state and progress, newest first.</summary>
public sealed class RunsCommands : ICommandGroup
{
    public Command Build()
    {
        var runs = new Command("runs", "Inspect runs.");
        var list = new Command("list", "List runs (runs/{runId}/status.json), newest first.");
        var json = new Option<bool>("--json") { Description = "Print a JSON array of the status documents." };
        var limit = new Option<int>("--limit") { Description = "Show at most this many runs.", DefaultValueFactory = _ => 50 };
        list.Options.Add(json);
        list.Options.Add(limit);
        list.SetAction(async (parse, ct) =>
        {
            var storage = await CliStorage.ConnectAsync(ct);
            if (storage is null) return ExitCodes.Unavailable;
            try
            {
                var ids = new List<string>();
                await foreach (var id in storage.ListTopLevelAsync(StorageLayout.RunsContainer, ct)) ids.Add(id);
                var statuses = new List<RunStatus>();
                foreach (var chunk in ids.Where(ResourceNames.IsValidRunId).Chunk(16))
                    statuses.AddRange((await Task.WhenAll(chunk.Select(id => storage.Run(id).ReadStatusAsync(ct)))).OfType<RunStatus>());
                var shown = statuses.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.RunId, StringComparer.Ordinal)
                    .Take(Math.Max(1, parse.GetValue(limit))).ToList();
                if (parse.GetValue(json))
                {
                    Console.WriteLine(PipelineJson.Serialize(shown));
                    return ExitCodes.Ok;
                }
                if (shown.Count == 0)
                {
                    Console.Error.WriteLine("No runs yet. Submit one with `./pipeline submit`.");
                    return ExitCodes.Ok;
                }
                var table = new Table().Border(TableBorder.Rounded)
                    .AddColumn("run").AddColumn("state").AddColumn("stage").AddColumn(new TableColumn("items").RightAligned())
                    .AddColumn("created").AddColumn("error");
                foreach (var s in shown)
                    table.AddRow(Markup.Escape(s.RunId), s.State.ToString(), Markup.Escape(s.Stage ?? ""),
                        s.Progress is { } p ? $"{p.Completed + p.Failed}/{p.Total}" : "",
                        s.CreatedAt == default ? "" : s.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss"),
                        Markup.Escape(Shorten(s.Error ?? (s.Problems.Count > 0 ? s.Problems[0] : ""))));
                AnsiConsole.Write(table);
                if (statuses.Count > shown.Count) Console.Error.WriteLine($"({statuses.Count - shown.Count} older runs not shown; --limit)");
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is Azure.RequestFailedException or AggregateException or HttpRequestException)
            {
                return CliStorage.Report(e);
            }
        });
        runs.Subcommands.Add(list);
        return runs;
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
