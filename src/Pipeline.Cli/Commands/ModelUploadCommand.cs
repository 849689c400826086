using System.CommandLine;
using Pipeline.Host.Models;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline model upload &lt;folder&gt; &lt;name&gt;/&lt;version&gt;</c>: checks a model package (model.json against
/// schemas/model-package.schema.json, every file's SHA-256) and puts it into models/{name}/{version}/, where a request's
/// <c>"model": "models/{name}/{version}"</c> finds it. A version holding a different package is never overwritten.
/// </summary>
public sealed class ModelUploadCommand : ICommandGroup
{
    public Command Build()
    {
        var model = new Command("model", "Model packages: inspect a folder, upload it to models/.");
        var upload = new Command("upload",
            "Check a model package folder (model.json schema, SHA-256 of every file) and upload it as models/{name}/{version}/. " +
            "Idempotent: running it again completes an interrupted upload; a version that holds a different package is refused.");
        var folder = new Argument<DirectoryInfo>("folder") { Description = "The package folder (model.json and the files it names)." };
        var target = new Argument<string>("name/version") { Description = "Where to put it, e.g. mammo-tiny/1.0.0 (becomes models/mammo-tiny/1.0.0)." };
        upload.Arguments.Add(folder);
        upload.Arguments.Add(target);
        upload.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(folder)!;
            string spec = parse.GetValue(target)!.Trim();
            if (spec.StartsWith("models/", StringComparison.Ordinal)) spec = spec["models/".Length..];
            var parts = spec.Split('/');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            {
                Console.Error.WriteLine($"'{parse.GetValue(target)}' is not name/version (e.g. mammo-tiny/1.0.0).");
                return ExitCodes.Usage;
            }
            if (!dir.Exists) { Console.Error.WriteLine($"{dir.FullName}: no such folder"); return ExitCodes.NotFound; }
            var storage = await CliStorage.ConnectAsync(ct);
            if (storage is null) return ExitCodes.Unavailable;
            try
            {
                long total = dir.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
                ModelUploadResult? result = null;
                await AnsiConsole.Progress().AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask($"models/{parts[0]}/{parts[1]}/", maxValue: Math.Max(1, total));
                        result = await new ModelPackageUploader(storage).UploadAsync(dir.FullName, parts[0], parts[1],
                            new Progress<long>(n => task.Increment(n)), ct);
                        task.Value = task.MaxValue;
                    });
                Console.Error.WriteLine($"{result!.Prefix}/: {result.Written} file(s) uploaded, {result.Unchanged} already there " +
                                        $"(model.json sha256 {result.ManifestSha256[..12]}...). Use \"model\": \"{result.Prefix}\" in a request.");
                return ExitCodes.Ok;
            }
            catch (ModelUploadRefusedException e) { Console.Error.WriteLine(e.Message); return ExitCodes.Failures; }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine("Interrupted; run the same command again to finish.");
                return ExitCodes.Cancelled;
            }
            catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException) { return CliStorage.Report(e); }
        });
        model.Subcommands.Add(upload);
        return model;
    }
}
