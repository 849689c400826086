using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Pipeline.Metrics.Report;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline report &lt;runId&gt; [--runs DIR] [--out DIR] [--open]</c>: builds report.json and the self-contained
/// report.html from the run's report model (runs/{id}/report-model.json, a <see cref="RunReportModel"/> in
/// <see cref="RunReport.JsonOptions"/> form, written by the run's Report stage), read from storage
/// (AzureWebJobsStorage, Azurite by default) or, with --runs, from a local copy of the runs folder; optionally opens it.
/// </summary>
public sealed class ReportCommand : ICommandGroup
{
    public Command Build()
    {
        var cmd = new Command("report", "Write a run's report.json and self-contained report.html locally (and open it).");
        var runId = new Argument<string>("runId") { Description = "The run id." };
        var runs = new Option<DirectoryInfo>("--runs") { Description = "Local folder holding runs/{id}/report-model.json (default: read it from storage into .pipeline/runs).", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(".pipeline", "runs")) };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Where to write report.json and report.html (default: the run's folder)." };
        var open = new Option<bool>("--open") { Description = "Open report.html in the desktop's browser (xdg-open) when there is one." };
        cmd.Arguments.Add(runId); cmd.Options.Add(runs); cmd.Options.Add(output); cmd.Options.Add(open);
        cmd.SetAction(async (parse, ct) =>
        {
            string id = parse.GetValue(runId)!;
            var runDir = Path.Combine(parse.GetValue(runs)!.FullName, id);
            var modelPath = Path.Combine(runDir, "report-model.json");
            if (!File.Exists(modelPath) && parse.GetResult(runs) is not { Implicit: false })
            {
                // Not in a local folder: fetch the run's report model from storage (AzureWebJobsStorage / Azurite).
                var storage = await CliStorage.ConnectAsync(ct);
                if (storage is null) return ExitCodes.Unavailable;
                try
                {
                    var blob = await storage.Run(id).ReadAsync(Pipeline.Host.Runs.RunBlobs.ReportModel, ct);
                    if (blob is not null)
                    {
                        Directory.CreateDirectory(runDir);
                        await File.WriteAllBytesAsync(modelPath, blob.ToArray(), ct);
                    }
                }
                catch (ArgumentException e) { Console.Error.WriteLine($"report: {e.Message}"); return ExitCodes.Usage; }
                catch (Exception e) when (e is Azure.RequestFailedException || Pipeline.Host.Triggers.StorageErrors.IsUnavailable(e)) { return CliStorage.Report(e); }
            }
            if (!File.Exists(modelPath))
            {
                Console.Error.WriteLine($"report: run '{id}' has no report model (runs/{id}/report-model.json in storage, or {modelPath}); is the run finished?");
                return ExitCodes.NotFound;
            }
            RunReportModel model;
            try
            {
                model = JsonSerializer.Deserialize<RunReportModel>(await File.ReadAllTextAsync(modelPath, ct), RunReport.JsonOptions)
                    ?? throw new JsonException("empty document");
            }
            catch (JsonException ex)
            {
                Console.Error.WriteLine($"report: {modelPath} is not a valid report model: {ex.Message}");
                return ExitCodes.Usage;
            }
            RunReport report;
            try { report = RunReportBuilder.Build(model); }
            catch (ArgumentException ex) { Console.Error.WriteLine($"report: {ex.Message}"); return ExitCodes.Usage; }
            var outDir = parse.GetValue(output)?.FullName ?? runDir;
            Directory.CreateDirectory(outDir);
            var json = Path.Combine(outDir, "report.json");
            var html = Path.Combine(outDir, "report.html");
            await File.WriteAllTextAsync(json, report.ToJson(), ct);
            await File.WriteAllTextAsync(html, ReportHtml.Render(report, model), ct);
            Console.WriteLine(json);
            Console.WriteLine(html);
            if (parse.GetValue(open)) Open(html);
            return report.Summary.Failed > 0 ? ExitCodes.Failures : ExitCodes.Ok;
        });
        return cmd;
    }

    private static void Open(string path)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("xdg-open", path) { UseShellExecute = false, RedirectStandardError = true });
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"report: no desktop browser here (xdg-open missing); open {path} yourself");
        }
    }
}
