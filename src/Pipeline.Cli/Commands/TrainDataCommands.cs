using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Pipeline.Core.Domains;
using Pipeline.Core.Training;
using Pipeline.Imaging.Dicom;
using Pipeline.Mammography.Training;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline train-data export</c>: the training job's input, prepared by the inference code (docs/training.md,
/// "Training data"): tensors (.npy) per split and a manifest the Python training job reads.
/// </summary>
public sealed class TrainDataCommands : ICommandGroup
{
    public Command Build()
    {
        var group = new Command("train-data", "Prepare training data for the training job (training/).");
        var export = new Command("export", "Write training examples of a local mammography dataset folder (annotation file + DICOMs) as tensors " +
                                           "(.npy per split: original, context, mask, detail, reference, copypaste, box) with manifest.json, prepared exactly as a run's Preprocess prepares model inputs. " +
                                           "Pair kinds: reinsertion (every lesion), lesion-transfer (--transfer-pairs), insertion (--insertions).");
        var d = PreparationSettings.Default;
        var dataset = new Option<DirectoryInfo>("--dataset") { Description = "Dataset folder (finding_annotations.csv, annotations.csv or annotations.json, and the images).", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder (manifest.json, train/, val/).", Required = true };
        var resolution = new Option<int>("--resolution") { Description = "Model input side in pixels.", DefaultValueFactory = _ => d.Resolution };
        var referenceSize = new Option<int>("--reference-size") { Description = "Reference crop side in pixels.", DefaultValueFactory = _ => d.ReferenceSize };
        var cropRatio = new Option<string>("--crop-ratio") { Description = "Zoom-in crop ratio range min,max (crop side / box edge).", DefaultValueFactory = _ => string.Create(CultureInfo.InvariantCulture, $"{d.CropRatioMin},{d.CropRatioMax}") };
        var referenceExpand = new Option<double>("--reference-expand") { Description = "Reference box expansion.", DefaultValueFactory = _ => d.ReferenceExpand };
        var variants = new Option<int>("--variants") { Description = "Training examples per lesion (each with its own crop ratio).", DefaultValueFactory = _ => 8 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the examples' crop ratios; the same seed gives the same tensors.", DefaultValueFactory = _ => 0UL };
        var fraction = new Option<double>("--validation-fraction") { Description = "Held-out fraction of images when the annotation file has no split.", DefaultValueFactory = _ => 0.15 };
        var transferPairs = new Option<DirectoryInfo?>("--transfer-pairs") { Description = "A `pipeline synth lesion-transfer` folder: its pairs become lesion-transfer examples (target crop from the target image, reference from the other image; split from the pairs file)." };
        var insertions = new Option<int>("--insertions") { Description = "Insertion examples per lesion: the lesion inserted into a lesion-free image of its split at a box drawn in the breast tissue, as a run plans insertions.", DefaultValueFactory = _ => 0 };
        foreach (var o in new Option[] { dataset, output, resolution, referenceSize, cropRatio, referenceExpand, variants, seed, fraction, transferPairs, insertions }) export.Options.Add(o);
        export.SetAction(async (parse, cancellationToken) =>
        {
            var ratio = parse.GetValue(cropRatio)!.Split(',');
            if (ratio.Length != 2 || !double.TryParse(ratio[0], CultureInfo.InvariantCulture, out var rmin) || !double.TryParse(ratio[1], CultureInfo.InvariantCulture, out var rmax))
            {
                Console.Error.WriteLine($"train-data export: --crop-ratio '{parse.GetValue(cropRatio)}': expected two numbers min,max");
                return ExitCodes.Usage;
            }
            var options = new TrainingExportOptions
            {
                Preparation = d with
                {
                    Resolution = parse.GetValue(resolution), ReferenceSize = parse.GetValue(referenceSize), CropRatioMin = rmin, CropRatioMax = rmax,
                    ReferenceExpand = parse.GetValue(referenceExpand),
                },
                Variants = parse.GetValue(variants), Seed = parse.GetValue(seed), ValidationFraction = parse.GetValue(fraction),
                TransferPairs = parse.GetValue(transferPairs)?.FullName, Insertions = parse.GetValue(insertions),
            };
            if (options.Problems() is { Count: > 0 } problems)
            {
                Console.Error.WriteLine("train-data export: " + string.Join("; ", problems));
                return ExitCodes.Usage;
            }
            var from = parse.GetValue(dataset)!.FullName;
            var to = parse.GetValue(output)!.FullName;
            var sw = Stopwatch.StartNew();
            TrainingDataManifest manifest = null!;
            try
            {
                await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("preparing examples");
                    manifest = await MammographyTrainingExport.ExportAsync(from, to, options,
                        new Progress<MammographyTrainingExport.ExportProgress>(p => { task.MaxValue = Math.Max(1, p.Total); task.Value = p.Done; }),
                        cancellationToken);
                });
            }
            catch (OperationCanceledException) { return ExitCodes.Cancelled; }
            catch (Exception e) when (e is InvalidDataException or DirectoryNotFoundException or FileNotFoundException or DicomException or ArgumentException)
            {
                Console.Error.WriteLine($"train-data export: {e.Message}");
                return ExitCodes.Usage;
            }
            foreach (var w in manifest.Warnings) Console.Error.WriteLine($"warning: {w}");
            foreach (var s in manifest.Skipped) Console.Error.WriteLine($"skipped {s.Item}: {s.Reason}");
            var p = manifest.Preparation;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {string.Join(", ", manifest.Splits.Select(kv => $"{kv.Value.Count} {kv.Key} ({string.Join(", ", kv.Value.PairKinds.Select(k => $"{k.Value} {k.Key}"))})"))} examples ({manifest.Skipped.Count} skipped) " +
                $"at {p.Resolution} px (reference {p.ReferenceSize} px, crop ratio {p.CropRatioMin}-{p.CropRatioMax}, reference expansion {p.ReferenceExpand}) " +
                $"to {to} in {sw.Elapsed.TotalSeconds:0.0} s; manifest: {Path.Combine(to, TrainingDataManifest.FileName)}"));
            return ExitCodes.Ok;
        });
        group.Subcommands.Add(export);
        return group;
    }
}
