using System.CommandLine;
using System.Globalization;
using Pipeline.Driving.Insertion;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.Rendering;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline scene render &lt;dataset&gt; &lt;sample&gt;</c>: the pictures of one driving sample (camera with projected boxes,
/// range view depth and intensity, bird's-eye view); <c>pipeline scene roundtrip &lt;dataset&gt;</c>: the no-model range
/// round trip beside thesis Table 2.1 (docs/driving.md).
/// </summary>
public sealed class SceneCommands : ICommandGroup
{
    public Command Build()
    {
        var scene = new Command("scene", "Look at nuScenes-format driving samples.");
        scene.Subcommands.Add(Render());
        scene.Subcommands.Add(RoundTrip());
        scene.Subcommands.Add(ExportTraining());
        return scene;
    }

    private static Command ExportTraining()
    {
        var export = new Command("export-training", "Write the training examples of the MObI-style driving model (docs/driving.md, \"Training data\"): per object passing MObI's filters, examples with a tracked reference (dt ~ Beta(4, 1)); per key frame, empty-box examples; prepared by the same code as a run's items. Writes examples.tensors and manifest.json.");
        var dataset = new Argument<DirectoryInfo>("dataset") { Description = "The dataset folder (nuScenes dataroot)." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for examples.tensors and manifest.json.", Required = true };
        var resolution = new Option<int>("--resolution") { Description = "D (camera and range crops are D x D).", DefaultValueFactory = _ => 32 };
        var referenceSize = new Option<int>("--reference-size") { Description = "S (the reference crop is S x S).", DefaultValueFactory = _ => 32 };
        var variants = new Option<int>("--variants") { Description = "Tracked-reference draws per object and frame.", DefaultValueFactory = _ => 2 };
        var emptyPer = new Option<int>("--empty-per-sample") { Description = "Empty-box examples per key frame.", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the reference and empty-box draws.", DefaultValueFactory = _ => 0UL };
        export.Arguments.Add(dataset);
        export.Options.Add(output); export.Options.Add(resolution); export.Options.Add(referenceSize); export.Options.Add(variants); export.Options.Add(emptyPer); export.Options.Add(seed);
        export.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(dataset)!;
            if (!dir.Exists) { Console.Error.WriteLine($"dataset folder '{dir.FullName}' does not exist"); return ExitCodes.NotFound; }
            var options = new DrivingTrainingExportOptions
            {
                Resolution = parse.GetValue(resolution), ReferenceSize = parse.GetValue(referenceSize), Variants = parse.GetValue(variants),
                EmptyPerSample = parse.GetValue(emptyPer), Seed = parse.GetValue(seed),
            };
            DrivingTrainingExportSummary summary = null!;
            try
            {
                await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("key frames");
                    summary = await DrivingTrainingExport.WriteAsync(dir.FullName, parse.GetValue(output)!.FullName, options, new Progress<int>(n => task.Value = n), ct);
                });
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or ArgumentException)
            {
                Console.Error.WriteLine(ex.Message); return ExitCodes.Usage;
            }
            Console.WriteLine($"{summary.Examples} examples ({summary.ObjectExamples} with a tracked reference, {summary.EmptyExamples} empty boxes; {summary.RefusedEmptyBoxes} empty-box candidates refused) from {summary.Samples} key frames -> {parse.GetValue(output)!.FullName}");
            return ExitCodes.Ok;
        });
        return export;
    }

    private static Command Render()
    {
        var render = new Command("render", "Write camera.png (projected 3D boxes, front face red), range-depth.png, range-intensity.png (32 x 1096, rows x4, box outlines) and bev.png (lidar points by height, box footprints) for one sample, and list its objects with MObI's filter decisions.");
        var dataset = new Argument<DirectoryInfo>("dataset") { Description = "The dataset folder (nuScenes dataroot)." };
        var sample = new Argument<string>("sample") { Description = "Sample token, index in scene order (0, 1, ...) or scene-name:index." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the pictures.", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var prefix = new Option<string>("--prefix") { Description = "File name prefix.", DefaultValueFactory = _ => "" };
        render.Arguments.Add(dataset); render.Arguments.Add(sample);
        render.Options.Add(output); render.Options.Add(prefix);
        render.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(dataset)!;
            if (!dir.Exists) { Console.Error.WriteLine($"dataset folder '{dir.FullName}' does not exist"); return ExitCodes.NotFound; }
            NuScenesDataset db;
            try { db = await NuScenesDataset.LoadAsync(dir.FullName, ct); }
            catch (InvalidDataException ex) { Console.Error.WriteLine(ex.Message); return ExitCodes.Usage; }
            var key = parse.GetValue(sample)!;
            var found = DrivingSample.Find(db, key);
            if (found is null) { Console.Error.WriteLine($"no sample '{key}' in {dir.FullName} ({db.Samples.Count} samples; use a token, an index or scene-name:index)"); return ExitCodes.NotFound; }
            DrivingSample loaded;
            try { loaded = await DrivingSample.LoadAsync(dir.FullName, db, found, cancellationToken: ct); }
            catch (Exception ex) when (ex is InvalidDataException or IOException or ArgumentException)
            {
                Console.Error.WriteLine($"sample {found.Token}: {ex.Message}"); return ExitCodes.Usage;
            }
            var files = await SampleRendering.WriteAsync(loaded, parse.GetValue(output)!.FullName, parse.GetValue(prefix)!, ct);
            var table = new Table().AddColumns("annotation", "category", "lidar pts", "2D box (px)", "visibility", "MObI filters");
            foreach (var o in loaded.Objects.OrderByDescending(o => o.Annotation.NumLidarPts))
                table.AddRow(o.Annotation.Token[..8], o.Category, o.Annotation.NumLidarPts.ToString(CultureInfo.InvariantCulture),
                    o.Projection.InFront ? $"{o.Projection.ClippedBounds.Width:0}x{o.Projection.ClippedBounds.Height:0}" : "-",
                    o.Visibility.ToString("0.00", CultureInfo.InvariantCulture), Markup.Escape(o.Decision.Keep ? "kept" : o.Decision.Reason));
            AnsiConsole.Write(table);
            foreach (var f in files) Console.WriteLine($"wrote {f}");
            return ExitCodes.Ok;
        });
        return render;
    }

    private static Command RoundTrip()
    {
        var roundTrip = new Command("roundtrip", "The no-model round trip of MObI's object-centric range path (crop, normalise, resize to D, back) over every object passing the filters: median depth error and intensity MSE on object points and on the edit mask, beside thesis Table 2.1.");
        var dataset = new Argument<DirectoryInfo>("dataset") { Description = "The dataset folder (nuScenes dataroot)." };
        var resolutions = new Option<int[]>("--resolution") { Description = "D values.", DefaultValueFactory = _ => [256, 512], AllowMultipleArgumentsPerToken = true };
        var all = new Option<bool>("--all-objects") { Description = "Every object with lidar points, not only those passing the filters." };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the rows as JSON here." };
        roundTrip.Arguments.Add(dataset);
        roundTrip.Options.Add(resolutions); roundTrip.Options.Add(all); roundTrip.Options.Add(json);
        roundTrip.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(dataset)!;
            if (!dir.Exists) { Console.Error.WriteLine($"dataset folder '{dir.FullName}' does not exist"); return ExitCodes.NotFound; }
            IReadOnlyList<RangeRoundTripSummary> rows = [];
            await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
            {
                var task = ctx.AddTask("samples");
                rows = await DatasetRangeRoundTrip.MeasureAsync(dir.FullName, parse.GetValue(resolutions)!, parse.GetValue(all), progress: new Progress<int>(n => task.Value = n), cancellationToken: ct);
            });
            var table = new Table().AddColumns("", "objects", "median depth err object (m)", "median depth err mask (m)", "MSE int. object", "MSE int. mask");
            table.AddRow("thesis: pretrained image VAE", "200", "0.451", "0.320", "7.854", "7.372");
            table.AddRow("thesis: + average pooling", "200", "0.306", "0.263", "3.496", "3.236");
            table.AddRow("thesis: + object-aware norm.", "200", "0.04", "0.315", "3.792", "2.941");
            foreach (var r in rows)
                table.AddRow($"no model, D = {r.Resolution}", r.Objects.ToString(CultureInfo.InvariantCulture),
                    F(r.MedianDepthErrorObject), F(r.MedianDepthErrorMask), F(r.IntensityMseObject), F(r.IntensityMseMask));
            AnsiConsole.Write(table);
            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, System.Text.Json.JsonSerializer.Serialize(rows, new System.Text.Json.JsonSerializerOptions
                {
                    WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
                }), ct);
                Console.WriteLine($"wrote {file.FullName}");
            }
            return ExitCodes.Ok;
        });
        return roundTrip;
    }

    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(v < 0.001 && v > 0 ? "0.00e+0" : "0.0000", CultureInfo.InvariantCulture);
}
