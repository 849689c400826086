using System.CommandLine;
using System.Diagnostics;
using Pipeline.Driving.Synthetic;
using Pipeline.Imaging.Synthetic;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline synth mammo</c>: a procedural, seeded mammography dataset in VinDr-Mammo's layout.
/// <c>pipeline synth driving</c>: ray-cast driving scenes (camera + lidar) in the nuScenes layout.
/// <c>pipeline synth lesion-transfer</c>: lesion-transfer training pairs (the same lesion over two tissues).
/// </summary>
public sealed class SynthCommands : ICommandGroup
{
    public Command Build()
    {
        var synth = new Command("synth", "Generate synthetic datasets.");
        var mammo = new Command("mammo", "Write a synthetic mammography dataset: 16-bit MG DICOMs (CC/MLO, L/R) with lesions and a VinDr-format finding_annotations.csv.");
        var count = new Option<int>("--count") { Description = "Number of images (studies of 4 views).", DefaultValueFactory = _ => 8 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed; the same seed gives the same dataset.", DefaultValueFactory = _ => 0UL };
        var rows = new Option<int>("--rows") { Description = "Image height in pixels.", DefaultValueFactory = _ => 1024 };
        var columns = new Option<int>("--columns") { Description = "Image width in pixels.", DefaultValueFactory = _ => 832 };
        var positive = new Option<double>("--positive-fraction") { Description = "Fraction of breasts with findings.", DefaultValueFactory = _ => 0.7 };
        var mono1 = new Option<double>("--monochrome1-fraction") { Description = "Fraction of studies stored MONOCHROME1.", DefaultValueFactory = _ => 0.0 };
        foreach (var o in new Option[] { count, output, seed, rows, columns, positive, mono1 }) mammo.Options.Add(o);
        mammo.SetAction(async (parse, ct) =>
        {
            var options = new SyntheticMammoOptions
            {
                Count = parse.GetValue(count), Seed = parse.GetValue(seed), Rows = parse.GetValue(rows), Columns = parse.GetValue(columns),
                PositiveFraction = parse.GetValue(positive), Monochrome1Fraction = parse.GetValue(mono1),
            };
            try { options.Validate(); }
            catch (ArgumentOutOfRangeException ex) { Console.Error.WriteLine($"synth mammo: {ex.Message}"); return ExitCodes.Usage; }
            var folder = parse.GetValue(output)!.FullName;
            var sw = Stopwatch.StartNew();
            SyntheticMammoSummary summary = null!;
            try
            {
                await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("synthesising", maxValue: options.Count);
                    summary = await SyntheticMammoDataset.WriteToFolderAsync(options, folder, new Progress<int>(n => task.Value = n), ct);
                });
            }
            catch (OperationCanceledException) { return ExitCodes.Cancelled; }
            Console.WriteLine($"wrote {summary.Images} images in {summary.Studies} studies ({summary.Findings} findings: " +
                              string.Join(", ", summary.FindingsByCategory.Select(kv => $"{kv.Value} {kv.Key}")) +
                              $") to {folder} in {sw.Elapsed.TotalSeconds:0.0} s; annotations: {Path.Combine(folder, summary.AnnotationFile)}");
            return ExitCodes.Ok;
        });
        synth.Subcommands.Add(mammo);
        synth.Subcommands.Add(Driving());
        synth.Subcommands.Add(LesionTransfer());
        return synth;
    }

    private static Command Driving()
    {
        var driving = new Command("driving", "Write synthetic driving scenes in the nuScenes layout: per scene one ray-cast street seen by CAM_FRONT (JPEG) and a 32-beam LIDAR_TOP (.pcd.bin) at 2 Hz key frames, cars and pedestrians annotated in the global frame (docs/driving.md).");
        var scenes = new Option<int>("--scenes") { Description = "Number of scenes.", DefaultValueFactory = _ => 2 };
        var samples = new Option<int>("--samples") { Description = "Key frames per scene (0.5 s apart).", DefaultValueFactory = _ => 6 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder (the nuScenes dataroot).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed; the same seed gives byte-identical files.", DefaultValueFactory = _ => 0UL };
        var width = new Option<int>("--width") { Description = "Camera image width (nuScenes: 1600).", DefaultValueFactory = _ => 800 };
        var height = new Option<int>("--height") { Description = "Camera image height (nuScenes: 900).", DefaultValueFactory = _ => 450 };
        var version = new Option<string>("--version-name") { Description = "Name of the tables' version folder.", DefaultValueFactory = _ => "v1.0-synthetic" };
        foreach (var o in new Option[] { scenes, samples, output, seed, width, height, version }) driving.Options.Add(o);
        driving.SetAction(async (parse, ct) =>
        {
            var options = new SyntheticDrivingOptions
            {
                Scenes = parse.GetValue(scenes), SamplesPerScene = parse.GetValue(samples), Seed = parse.GetValue(seed),
                CameraWidth = parse.GetValue(width), CameraHeight = parse.GetValue(height), Version = parse.GetValue(version)!,
            };
            try { options.Validate(); }
            catch (ArgumentOutOfRangeException ex) { Console.Error.WriteLine($"synth driving: {ex.Message}"); return ExitCodes.Usage; }
            var folder = parse.GetValue(output)!.FullName;
            var sw = Stopwatch.StartNew();
            SyntheticDrivingSummary summary = null!;
            try
            {
                await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("ray casting key frames", maxValue: options.Scenes * options.SamplesPerScene);
                    summary = await SyntheticDrivingDataset.WriteToFolderAsync(options, folder, new Progress<int>(n => task.Value = n), ct);
                });
            }
            catch (OperationCanceledException) { return ExitCodes.Cancelled; }
            Console.WriteLine($"wrote {summary.Scenes} scenes, {summary.Samples} samples ({summary.LidarPoints} lidar points), {summary.Annotations} annotations of {summary.Instances} objects (" +
                              string.Join(", ", summary.AnnotationsByCategory.Select(kv => $"{kv.Value} {kv.Key}")) +
                              $") to {folder} in {sw.Elapsed.TotalSeconds:0.0} s; tables: {Path.Combine(folder, summary.Version)}");
            return ExitCodes.Ok;
        });
        return driving;
    }

    private static Command LesionTransfer()
    {
        var command = new Command("lesion-transfer",
            "Write lesion-transfer training pairs: per pair, the same lesion (shape, density, spiculation, calcification pattern) drawn over two different tissues at " +
            "different positions, the second with size and contrast jitter; a VinDr-layout dataset plus lesion_transfer_pairs.csv (reference image + box, target image + box).");
        var pairs = new Option<int>("--pairs") { Description = "Number of pairs (two images each).", DefaultValueFactory = _ => 8 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed; the same seed gives the same pairs.", DefaultValueFactory = _ => 0UL };
        var sizeJitter = new Option<double>("--size-jitter") { Description = "Target lesion size = reference size x U[1-j, 1+j].", DefaultValueFactory = _ => 0.15 };
        var contrastJitter = new Option<double>("--contrast-jitter") { Description = "Target lesion contrast = reference contrast x U[1-j, 1+j].", DefaultValueFactory = _ => 0.2 };
        foreach (var o in new Option[] { pairs, output, seed, sizeJitter, contrastJitter }) command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            var options = new LesionTransferOptions
            {
                Pairs = parse.GetValue(pairs), Seed = parse.GetValue(seed), SizeJitter = parse.GetValue(sizeJitter), ContrastJitter = parse.GetValue(contrastJitter),
            };
            try { options.Validate(); }
            catch (ArgumentOutOfRangeException ex) { Console.Error.WriteLine($"synth lesion-transfer: {ex.Message}"); return ExitCodes.Usage; }
            var folder = parse.GetValue(output)!.FullName;
            var sw = Stopwatch.StartNew();
            LesionTransferSummary summary = null!;
            try
            {
                await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("synthesising pairs", maxValue: options.Pairs);
                    summary = await LesionTransferPairs.WriteToFolderAsync(options, folder, new Progress<int>(n => task.Value = n), ct);
                });
            }
            catch (OperationCanceledException) { return ExitCodes.Cancelled; }
            Console.WriteLine($"wrote {summary.Pairs} pairs ({summary.Images} images; " +
                              string.Join(", ", summary.PairsByCategory.Select(kv => $"{kv.Value} {kv.Key}")) +
                              (summary.Skipped > 0 ? $"; {summary.Skipped} skipped: the lesion found no place" : "") +
                              $") to {folder} in {sw.Elapsed.TotalSeconds:0.0} s; pairs: {Path.Combine(folder, summary.PairsFile)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
