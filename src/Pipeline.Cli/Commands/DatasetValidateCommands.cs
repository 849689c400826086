using System.CommandLine;
using Pipeline.Core.Contracts;
using Pipeline.Driving.Ingestion;
using Pipeline.Imaging.Ingestion;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline dataset validate &lt;folder&gt;</c>: the checks ingestion runs (every referenced file opens and has its
/// annotated size, boxes inside images; for nuScenes-format driving datasets the table, token and file checks of
/// NuScenesIngestion), with class counts and box statistics. Contributes the "validate" verb to the
/// "dataset" group (Program merges groups of the same name).
/// </summary>
public sealed class DatasetValidateCommands : ICommandGroup
{
    /// <summary>The one description of `pipeline dataset` (its subcommands come from several command groups).</summary>
    public const string Description = "Datasets under datasets/: upload a folder, validate a folder as ingestion does.";

    public Command Build()
    {
        var dataset = new Command("dataset", Description);
        var validate = new Command("validate", "Validate a dataset folder as ingestion does (VinDr-Mammo finding_annotations.csv, CBIS-DDSM case description CSVs with ROI masks, generic annotations.csv/annotations.json, or DICOM Segmentations).");
        var folder = new Argument<DirectoryInfo>("folder") { Description = "Dataset folder." };
        var report = new Option<FileInfo?>("--report") { Description = "Also write the validation report (JSON) here." };
        var index = new Option<FileInfo?>("--index") { Description = "Also write the _index.json content here." };
        var headerOnly = new Option<bool>("--header-only") { Description = "Read DICOM headers only (faster; does not decode pixels)." };
        validate.Arguments.Add(folder);
        foreach (var o in new Option[] { report, index, headerOnly }) validate.Options.Add(o);
        validate.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(folder)!;
            if (!dir.Exists) { Console.Error.WriteLine($"dataset folder '{dir.FullName}' does not exist"); return ExitCodes.NotFound; }
            DatasetIngestionResult result;
            try
            {
                var source = new FolderDatasetSource(dir.FullName);
                result = await NuScenesIngestion.TryRunAsync(source, cancellationToken: ct)
                         ?? await DatasetIngestion.RunAsync(source, new DatasetIngestionOptions { DecodePixels = !parse.GetValue(headerOnly) }, cancellationToken: ct);
            }
            catch (OperationCanceledException) { return ExitCodes.Cancelled; }
            var r = result.Report;
            if (parse.GetValue(report) is { } rp) await File.WriteAllBytesAsync(rp.FullName, PipelineJson.SerializeToUtf8Bytes(r), ct);
            if (parse.GetValue(index) is { } ip) await File.WriteAllBytesAsync(ip.FullName, PipelineJson.SerializeToUtf8Bytes(result.Index), ct);

            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(r.Dataset)}[/]: {r.Files} files, annotations {Markup.Escape(r.AnnotationFile ?? "none")} ({r.AnnotationFormat ?? "-"}), " +
                                   $"{r.ValidImages}/{r.ReferencedImages} images valid, {r.Findings} findings in {r.ImagesWithFindings} images");
            if (r.ClassCounts.Count > 0)
            {
                var t = new Table().AddColumns("class", "boxes", "width min/mean/max", "height min/mean/max");
                foreach (var (cls, n) in r.ClassCounts)
                {
                    // 2D box statistics exist for image datasets; driving datasets count 3D boxes only
                    if (r.BoxStatistics.TryGetValue(cls, out var s))
                        t.AddRow(Markup.Escape(cls), n.ToString(), $"{s.MinWidth:0}/{s.MeanWidth:0}/{s.MaxWidth:0}", $"{s.MinHeight:0}/{s.MeanHeight:0}/{s.MaxHeight:0}");
                    else t.AddRow(Markup.Escape(cls), n.ToString(), "-", "-");
                }
                AnsiConsole.Write(t);
            }
            if (r.SplitCounts.Count > 0) Console.WriteLine("splits: " + string.Join(", ", r.SplitCounts.Select(kv => $"{kv.Key} {kv.Value}")));
            if (r.ForProcessing.Count > 0) Console.WriteLine($"FOR PROCESSING images: {r.ForProcessing.Count}");
            if (r.Unreferenced.Count > 0) Console.WriteLine($"image files not in the annotations: {r.Unreferenced.Count}");
            foreach (var e in r.Errors.Take(50)) Console.Error.WriteLine($"error: {(e.Path.Length > 0 ? e.Path + ": " : "")}{e.Message}");
            if (r.Errors.Count > 50) Console.Error.WriteLine($"... and {r.Errors.Count - 50} more errors (see --report)");
            Console.WriteLine(r.IsValid ? "valid" : $"{r.Errors.Count} error(s)");
            return r.IsValid ? ExitCodes.Ok : ExitCodes.Failures;
        });
        dataset.Subcommands.Add(validate);
        return dataset;
    }
}
