using System.CommandLine;
using Pipeline.Core.Contracts;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline dataset upload &lt;folder&gt; &lt;name&gt;</c>: copies a folder to datasets/{name}/ (write-if-absent, so an
/// interrupted upload can simply be run again; a file that differs from the one already uploaded is reported, never
/// overwritten). The datasets/ listener of `pipeline serve` then ingests it. Other areas add subcommands of
/// <c>dataset</c> in their own command group with the same name (Program merges groups by name).
/// </summary>
public sealed class DatasetCommands : ICommandGroup
{
    public Command Build()
    {
        var dataset = new Command("dataset", DatasetValidateCommands.Description);
        var upload = new Command("upload", "Upload a folder as datasets/{name}/ (idempotent; existing identical files are skipped, differing ones reported).");
        var folder = new Argument<DirectoryInfo>("folder") { Description = "Local folder to upload (recursively)." };
        var name = new Argument<string>("name") { Description = "Dataset name: letters, digits, '.', '_', '-'." };
        var parallel = new Option<int>("--parallel") { Description = "Files uploaded at once.", DefaultValueFactory = _ => 4 };
        upload.Arguments.Add(folder);
        upload.Arguments.Add(name);
        upload.Options.Add(parallel);
        upload.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(folder)!;
            string datasetName = parse.GetValue(name)!;
            if (!ResourceNames.IsValidName(datasetName))
            {
                Console.Error.WriteLine($"Dataset name '{datasetName}' is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
                return ExitCodes.Usage;
            }
            if (!dir.Exists) { Console.Error.WriteLine($"{dir.FullName}: no such folder"); return ExitCodes.NotFound; }

            var files = new List<(FileInfo File, string Relative)>();
            var bad = new List<string>();
            foreach (var f in dir.EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false }))
            {
                string rel = Path.GetRelativePath(dir.FullName, f.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (rel == DatasetIndex.BlobName) { bad.Add($"{rel}: reserved for the index ingestion writes"); continue; }
                if (BlobNames.FindProblem(rel) is { } problem) { bad.Add($"{rel}: {problem}"); continue; }
                files.Add((f, rel));
            }
            if (bad.Count > 0)
            {
                Console.Error.WriteLine($"Nothing uploaded: {bad.Count} file name(s) cannot be blob names:");
                foreach (var b in bad) Console.Error.WriteLine($"  {b}");
                return ExitCodes.Usage;
            }
            if (files.Count == 0) { Console.Error.WriteLine($"{dir.FullName} holds no files."); return ExitCodes.Usage; }

            var storage = await CliStorage.ConnectAsync(ct);
            if (storage is null) return ExitCodes.Unavailable;
            var ds = storage.Dataset(datasetName);
            int written = 0, unchanged = 0;
            var conflicts = new System.Collections.Concurrent.ConcurrentBag<string>();
            long totalBytes = files.Sum(f => f.File.Length);
            try
            {
                await AnsiConsole.Progress().AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask($"datasets/{datasetName}/ ({files.Count} files)", maxValue: Math.Max(1, totalBytes));
                        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parse.GetValue(parallel)), CancellationToken = ct },
                            async (f, token) =>
                            {
                                await using var stream = f.File.OpenRead();
                                try
                                {
                                    var r = await ds.UploadAsync(f.Relative, stream, cancellationToken: token);
                                    if (r.Written) Interlocked.Increment(ref written); else Interlocked.Increment(ref unchanged);
                                }
                                catch (BlobConflictException e)
                                {
                                    conflicts.Add($"{f.Relative}: differs from the file already in the dataset (sha256 {e.ExistingSha256[..12]}...)");
                                }
                                task.Increment(f.File.Length);
                            });
                    });
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine($"Interrupted after {written} files; run the same command again to finish.");
                return ExitCodes.Cancelled;
            }
            catch (Exception e) when (e is Azure.RequestFailedException or AggregateException or HttpRequestException)
            {
                return CliStorage.Report(e);
            }
            Console.Error.WriteLine($"datasets/{datasetName}/: {written} uploaded, {unchanged} already there, {conflicts.Count} conflicting.");
            foreach (var c in conflicts.Order(StringComparer.Ordinal)) Console.Error.WriteLine($"  {c}");
            return conflicts.IsEmpty ? ExitCodes.Ok : ExitCodes.Failures;
        });
        dataset.Subcommands.Add(upload);
        return dataset;
    }
}
