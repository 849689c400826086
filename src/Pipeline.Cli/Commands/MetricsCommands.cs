using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Metrics;
using Pipeline.Metrics.Distribution;
using Pipeline.Metrics.Features;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline metrics ssim|msssim|psnr a.png b.png [--data-range R] [--mask m.png] [--border skimage|torchmetrics]</c> and
/// <c>pipeline metrics fid|kid dirA dirB --features model-folder</c>: JSON on stdout with the metric definition version.
/// Decoding lives here (the CLI edge); Pipeline.Metrics only sees float samples.
/// </summary>
public sealed class MetricsCommands : ICommandGroup
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public Command Build()
    {
        var metrics = new Command("metrics", "Image-quality and distribution metrics (SSIM, MS-SSIM, PSNR, FD/KID over feature networks).");
        foreach (var name in new[] { "ssim", "msssim", "psnr" }) metrics.Subcommands.Add(PairCommand(name));
        foreach (var name in new[] { "fid", "kid" }) metrics.Subcommands.Add(SetCommand(name));
        return metrics;
    }

    private static Command PairCommand(string name)
    {
        var cmd = new Command(name, name switch
        {
            "ssim" => "SSIM of two images (scikit-image border handling unless --border torchmetrics).",
            "msssim" => "MS-SSIM of two images (5 scales; each side at least 176 px).",
            _ => "PSNR (dB), MSE and MAE of two images.",
        });
        var a = new Argument<FileInfo>("a") { Description = "First image (PNG or JPEG)." };
        var b = new Argument<FileInfo>("b") { Description = "Second image, same size and channels." };
        var range = new Option<double?>("--data-range") { Description = "Dynamic range L of the samples; default: the file's sample type (255 for 8-bit, 65535 for 16-bit), never guessed from the pixels." };
        var mask = new Option<FileInfo?>("--mask") { Description = "Mask image of the same size: non-zero pixels are inside; adds inside/outside scores." };
        var border = new Option<string>("--border") { Description = "SSIM border handling: skimage (default) or torchmetrics.", DefaultValueFactory = _ => "skimage" };
        border.AcceptOnlyFromAmong("skimage", "torchmetrics");
        cmd.Arguments.Add(a); cmd.Arguments.Add(b);
        cmd.Options.Add(range); cmd.Options.Add(mask);
        if (name != "psnr") cmd.Options.Add(border);
        cmd.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var (pa, shapeA, maxA, notesA) = await ReadFloatAsync(parse.GetValue(a)!, cancellationToken);
                var (pb, shapeB, maxB, notesB) = await ReadFloatAsync(parse.GetValue(b)!, cancellationToken);
                if (shapeA != shapeB)
                    return Fail($"metrics {name}: the images differ in shape ({parse.GetValue(a)!.Name} is {shapeA}, {parse.GetValue(b)!.Name} is {shapeB})");
                double dataRange = parse.GetValue(range) ?? Math.Max(maxA, maxB);
                byte[] m = [];
                if (parse.GetValue(mask) is { } mf)
                {
                    var (pm, shapeM, _, _) = await ReadFloatAsync(mf, cancellationToken);
                    if (shapeM.Width != shapeA.Width || shapeM.Height != shapeA.Height)
                        return Fail($"metrics {name}: the mask {mf.Name} is {shapeM.Width}x{shapeM.Height}, the images {shapeA.Width}x{shapeA.Height}");
                    m = new byte[shapeM.PixelCount];
                    for (int i = 0; i < m.Length; i++) m[i] = (byte)(pm[i * shapeM.Channels] != 0 ? 1 : 0);
                }
                var o = new JsonObject { ["a"] = parse.GetValue(a)!.FullName, ["b"] = parse.GetValue(b)!.FullName, ["shape"] = shapeA.ToString(), ["dataRange"] = dataRange };
                if (name == "psnr")
                {
                    var e = PixelError.Compute(pa, pb, shapeA, dataRange, m);
                    o["metric"] = "psnr"; o["version"] = MetricDefinitions.PsnrVersion(dataRange);
                    o["psnr"] = Regions(e.Psnr); o["mse"] = Regions(e.Mse); o["mae"] = Regions(e.Mae);
                }
                else
                {
                    var options = new SsimOptions(dataRange) { Border = parse.GetValue(border) == "torchmetrics" ? SsimBorder.Torchmetrics : SsimBorder.ScikitImage };
                    var r = name == "ssim" ? StructuralSimilarity.Compute(pa, pb, shapeA, options, m) : MultiScaleStructuralSimilarity.Compute(pa, pb, shapeA, options, m);
                    o["metric"] = name == "ssim" ? "ssim" : "ms-ssim";
                    o["version"] = name == "ssim" ? options.DefinitionVersion : MetricDefinitions.MsSsimVersion(options);
                    foreach (var (k, v) in Regions(r)) o[k] = v?.DeepClone();
                }
                var notes = notesA.Concat(notesB).Distinct().ToList();
                if (notes.Count > 0) o["notes"] = new JsonArray(notes.Select(n => (JsonNode)n!).ToArray());
                Console.WriteLine(o.ToJsonString(Json));
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is ArgumentException or ImageFormatException or IOException or InvalidDataException)
            {
                return Fail($"metrics {name}: {ex.Message}");
            }
        });
        return cmd;
    }

    private static Command SetCommand(string name)
    {
        var cmd = new Command(name, name == "fid"
            ? "Fréchet distance between two folders of images over a feature network; reported as FD[<model name>] (FID only with pytorch-fid's Inception weights)."
            : "Kernel distance (KID, unbiased MMD^2, cubic polynomial kernel, seeded subsets) between two folders of images; reported as KID[<model name>].");
        var dirA = new Argument<DirectoryInfo>("dirA") { Description = "First folder of PNG/JPEG images." };
        var dirB = new Argument<DirectoryInfo>("dirB") { Description = "Second folder." };
        var features = new Option<DirectoryInfo>("--features") { Description = "Feature model folder (feature-model.json + ONNX), e.g. training/feature_models/tiny-feat.", Required = true };
        var subset = new Option<int>("--subset-size") { Description = "KID subset size.", DefaultValueFactory = _ => 1000 };
        var subsets = new Option<int>("--subsets") { Description = "KID subset count.", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "KID subset seed.", DefaultValueFactory = _ => 0 };
        var shrink = new Option<bool>("--shrink-subsets") { Description = "KID: shrink the subset size to the smaller folder instead of failing (clean-fid's min(n, 1000))." };
        cmd.Arguments.Add(dirA); cmd.Arguments.Add(dirB); cmd.Options.Add(features);
        if (name == "kid") { cmd.Options.Add(subset); cmd.Options.Add(subsets); cmd.Options.Add(seed); cmd.Options.Add(shrink); }
        cmd.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                using var net = FeatureNetwork.Open(parse.GetValue(features)!.FullName);
                if (net.Descriptor.Kind != FeatureModelKind.Features)
                    return Fail($"metrics {name}: '{net.Descriptor.Name}' is a {net.Descriptor.Kind} model; FD and KID need kind 'features'");
                var fa = await FolderFeaturesAsync(net, parse.GetValue(dirA)!, cancellationToken);
                var fb = await FolderFeaturesAsync(net, parse.GetValue(dirB)!, cancellationToken);
                int d = net.Descriptor.Output!.Dim;
                var o = new JsonObject { ["dirA"] = parse.GetValue(dirA)!.FullName, ["dirB"] = parse.GetValue(dirB)!.FullName, ["samplesA"] = fa.Count, ["samplesB"] = fb.Count, ["features"] = net.Descriptor.Folder };
                if (name == "fid")
                {
                    var r = FrechetDistance.Compute(fa.Features, fa.Count, fb.Features, fb.Count, d);
                    o["metric"] = net.MetricName("FD"); o["version"] = MetricDefinitions.FdVersion(net.Descriptor);
                    o["value"] = r.Distance; o["imaginaryComponent"] = r.ImaginaryComponent; o["offsetApplied"] = r.OffsetApplied;
                    o["method"] = r.Method.ToString(); o["ranks"] = new JsonArray(r.RankFirst, r.RankSecond);
                    o["warnings"] = new JsonArray(r.Warnings.Select(w => (JsonNode)w!).ToArray());
                }
                else
                {
                    var ko = new KidOptions { SubsetSize = parse.GetValue(subset), SubsetCount = parse.GetValue(subsets), Seed = parse.GetValue(seed), ShrinkSubsetToSamples = parse.GetValue(shrink) };
                    var r = KernelInceptionDistance.Compute(fa.Features, fa.Count, fb.Features, fb.Count, d, ko);
                    o["metric"] = net.MetricName("KID");
                    o["version"] = MetricDefinitions.KidVersion(net.Descriptor, r.SubsetCount, r.SubsetSize, r.Seed);
                    o["mean"] = r.Mean; o["std"] = r.Std;
                    o["warnings"] = new JsonArray(r.Warnings.Select(w => (JsonNode)w!).ToArray());
                }
                Console.WriteLine(o.ToJsonString(Json));
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is ArgumentException or ImageFormatException or IOException or InvalidDataException or ArithmeticException)
            {
                return Fail($"metrics {name}: {ex.Message}");
            }
        });
        return cmd;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return ExitCodes.Usage;
    }

    private static JsonObject Regions(RegionScores r) => new() { ["whole"] = r.Whole, ["inside"] = r.Inside, ["outside"] = r.Outside };

    private static async Task<(float[] Features, int Count)> FolderFeaturesAsync(FeatureNetwork net, DirectoryInfo dir, CancellationToken cancellationToken)
    {
        if (!dir.Exists) throw new DirectoryNotFoundException($"folder '{dir.FullName}' does not exist");
        var files = dir.EnumerateFiles().Where(f => f.Extension.ToLowerInvariant() is ".png" or ".jpg" or ".jpeg").OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (files.Count < 2) throw new ArgumentException($"folder '{dir.FullName}' holds {files.Count} PNG/JPEG image(s); at least 2 are needed");
        var all = new List<float>();
        const int chunk = 64; // decode and run in chunks so big folders do not sit in memory as pixels
        for (int start = 0; start < files.Count; start += chunk)
        {
            var images = new List<FeatureImage>();
            foreach (var f in files.Skip(start).Take(chunk))
            {
                var (pixels, shape, max, _) = await ReadFloatAsync(f, cancellationToken);
                for (int i = 0; i < pixels.Length; i++) pixels[i] /= (float)max;
                images.Add(new FeatureImage(pixels, shape, f.Name));
            }
            all.AddRange(net.Extract(images, cancellationToken));
        }
        return (all.ToArray(), files.Count);
    }

    /// <summary>Decodes a PNG/JPEG to float samples (alpha dropped), with the sample type's maximum (255 or 65535).</summary>
    internal static async Task<(float[] Pixels, PlaneShape Shape, double Max, List<string> Notes)> ReadFloatAsync(FileInfo file, CancellationToken cancellationToken)
    {
        if (!file.Exists) throw new FileNotFoundException($"'{file.FullName}' does not exist", file.FullName);
        var bytes = await File.ReadAllBytesAsync(file.FullName, cancellationToken);
        using var image = PngCodec.IsPng(bytes) ? PngCodec.Decode(bytes, file.Name)
            : JpegCodec.IsJpeg(bytes) ? JpegCodec.Decode(bytes, file.Name)
            : throw new ImageFormatException(file.Name, "image", "neither a PNG nor a JPEG signature");
        var notes = new List<string>();
        double max = image.PixelType switch { PixelType.UInt8 => 255, PixelType.UInt16 => 65535, _ => 1 };
        int c = image.Channels, keep = c is 2 or 4 ? c - 1 : c;
        if (keep != c) notes.Add($"{file.Name}: alpha channel ignored");
        using var f = image.ToFloat32();
        var src = f.Pixels<float>();
        var dst = new float[image.Width * image.Height * keep];
        for (int p = 0, n = image.Width * image.Height; p < n; p++)
            for (int k = 0; k < keep; k++) dst[p * keep + k] = src[p * c + k];
        return (dst, new PlaneShape(image.Width, image.Height, keep), max, notes);
    }
}
