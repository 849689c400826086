using System.CommandLine;
using System.Diagnostics;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Inference.Onnx;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline sample</c>: inpaint one item with a model package (docs/inference.md).</summary>
public sealed class SampleCommand : ICommandGroup
{
    public Command Build()
    {
        var cmd = new Command("sample", "Inpaint one item: generate the masked region of a context crop, guided by a reference crop.");
        var model = new Option<DirectoryInfo>("--model") { Description = "Model package folder (model.json + ONNX files).", Required = true };
        var context = new Option<FileInfo>("--context") { Description = "Context crop (PNG, grey or RGB, 8/16-bit); resized to the model resolution.", Required = true };
        var mask = new Option<FileInfo>("--mask") { Description = "Mask PNG: white (>= half) = region to generate.", Required = true };
        var reference = new Option<FileInfo>("--reference") { Description = "Reference crop PNG.", Required = true };
        var hf = new Option<FileInfo?>("--hf") { Description = "Detail (high-frequency) map PNG, for models that bind 'detailMap'. Default: derived from the reference as a run does (docs/preprocessing.md: Sobel HF map of the reference, collaged into the mask's box)." };
        var scheduler = new Option<string?>("--scheduler") { Description = $"Scheduler: {string.Join("|", SchedulerFactory.Names)} (default: model.json)." };
        var steps = new Option<int?>("--steps") { Description = "Inference steps (default: model.json)." };
        var guidance = new Option<double?>("--guidance") { Description = "Classifier-free guidance scale (1 = none; default: model.json)." };
        var eta = new Option<double?>("--eta") { Description = "DDIM eta (default: model.json)." };
        var seed = new Option<ulong>("--seed") { Description = "Run seed (with the item id, keys all noise).", DefaultValueFactory = _ => 0UL };
        var itemId = new Option<ulong>("--item-id") { Description = "Item id used for the noise stream.", DefaultValueFactory = _ => 0UL };
        var repaint = new Option<string?>("--repaint") { Description = "RePaint resampling for blend models: 'jump,count' (e.g. 10,10)." };
        var cuda = new Option<bool>("--cuda") { Description = "Run on the CUDA execution provider (falls back to the CPU with a notice when unavailable)." };
        var output = new Option<FileInfo>("-o", "--output") { Description = "Output PNG (16-bit grey or RGB, model resolution).", Required = true };
        foreach (var o in new Option[] { model, context, mask, reference, hf, scheduler, steps, guidance, eta, seed, itemId, repaint, cuda, output }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var package = await ModelPackage.LoadAsync(parse.GetValue(model)!.FullName, cancellationToken);
                RePaintOptions? rp = null;
                if (parse.GetValue(repaint) is { } r)
                {
                    var parts = r.Split(',');
                    if (parts.Length != 2 || !int.TryParse(parts[0], out var j) || !int.TryParse(parts[1], out var n))
                        throw new ArgumentException($"--repaint must be 'jump,count', got '{r}'");
                    rp = new RePaintOptions(j, n);
                }
                var needsHf = package.Denoiser.Input(ModelPackage.Roles.DetailMap) is not null;
                var res = package.Resolution;
                var maskPlane = Binarize(await ReadPlanarAsync(parse.GetValue(mask)!, res, 1, (0, 1), cancellationToken));
                float[]? detail = null;
                if (needsHf && parse.GetValue(hf) is { } hfFile) detail = await ReadPlanarAsync(hfFile, res, package.ImageChannels, (0, 1), cancellationToken);
                else if (needsHf)
                {
                    if (package.ImageChannels != 1) throw new ArgumentException($"model '{package.Name}' takes a {package.ImageChannels}-channel detail map; derive it yourself and pass --hf");
                    detail = DetailMapFromReference(await ReadPlanarAsync(parse.GetValue(reference)!, package.Reference.Size, 1, (0, 1), cancellationToken), package.Reference.Size, maskPlane, res);
                    Console.Error.WriteLine("detail map: derived from the reference (no --hf)");
                }
                var item = new InpaintingItem(parse.GetValue(itemId),
                    await ReadPlanarAsync(parse.GetValue(context)!, res, package.ImageChannels, package.ValueRange, cancellationToken),
                    maskPlane,
                    await ReadPlanarAsync(parse.GetValue(reference)!, package.Reference.Size, package.Reference.Channels, package.ValueRange, cancellationToken),
                    detail);
                var sessionOptions = new OrtSessionOptions { ExecutionProvider = parse.GetValue(cuda) ? OrtExecutionProvider.Cuda : OrtExecutionProvider.Cpu, FallbackToCpu = true };
                using var m = InpaintingModel.Open(package, options: sessionOptions);
                if (m.Denoiser.ExecutionProviderNote is { } note) AnsiConsole.MarkupLineInterpolated($"[yellow]{note}[/]");
                var sampler = new InpaintingSampler(m, SchedulerFactory.Create);
                var sw = Stopwatch.StartNew();
                float[] image = [];
                await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("sampling");
                    var progress = new Progress<SamplingProgress>(p => { task.MaxValue = p.IterationsPerBatch; task.Value = p.Iteration; });
                    var options = new SamplingOptions
                    {
                        Scheduler = parse.GetValue(scheduler), Steps = parse.GetValue(steps), GuidanceScale = parse.GetValue(guidance),
                        Eta = parse.GetValue(eta), Seed = parse.GetValue(seed), RePaint = rp, Progress = progress,
                    };
                    image = (await sampler.SampleAsync([item], options, cancellationToken))[0];
                });
                var outFile = parse.GetValue(output)!.FullName;
                await WritePngAsync(outFile, image, res, package.ImageChannels, package.ValueRange, cancellationToken);
                Console.WriteLine($"wrote {outFile} ({res}x{res}, model '{package.Name}' {package.Version}, {m.Denoiser.ExecutionProvider}) in {sw.Elapsed.TotalSeconds:0.00} s");
                return ExitCodes.Ok;
            }
            catch (OperationCanceledException) { return ExitCodes.Cancelled; }
            catch (ModelPackageException e) { Console.Error.WriteLine($"sample: {e.Message}"); return Directory.Exists(parse.GetValue(model)!.FullName) ? ExitCodes.Failures : ExitCodes.NotFound; }
            catch (Exception e) when (e is ArgumentException or ImageFormatException or FileNotFoundException or IOException)
            {
                Console.Error.WriteLine($"sample: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (OrtException e) { Console.Error.WriteLine($"sample: {e.Message}"); return ExitCodes.Unavailable; }
        });
        return cmd;
    }

    /// <summary>
    /// The detail map a run would give the model (docs/preprocessing.md, "High-frequency (detail) map"): the HF map of the
    /// display-space reference crop (the whole crop as support) collaged into the bounding box of the mask, model space
    /// inside the box and 0 outside; all zeros for an empty mask.
    /// </summary>
    public static float[] DetailMapFromReference(float[] referenceDisplay, int referenceSize, float[] mask, int resolution)
    {
        var support = new byte[referenceSize * referenceSize];
        Array.Fill(support, (byte)1);
        var hfMap = new float[support.Length];
        HighFrequencyMap.Compute(referenceDisplay, support, referenceSize, hfMap);
        int x0 = resolution, y0 = resolution, x1 = -1, y1 = -1;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] == 0) continue;
            int y = i / resolution, x = i % resolution;
            x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
        }
        var detail = new float[resolution * resolution];
        if (x1 >= 0) HighFrequencyMap.Collage(hfMap, referenceSize, PixelRect.FromCorners(x0, y0, x1 + 1, y1 + 1), resolution, detail);
        return detail;
    }

    private static float[] Binarize(float[] mask)
    {
        for (var i = 0; i < mask.Length; i++) mask[i] = mask[i] >= 0.5f ? 1f : 0f;
        return mask;
    }

    /// <summary>Reads a PNG into planar C x size x size floats mapped from [0, max] to <paramref name="range"/>, resized to size.</summary>
    internal static async Task<float[]> ReadPlanarAsync(FileInfo file, int size, int channels, (double Min, double Max) range, CancellationToken cancellationToken)
    {
        if (!file.Exists) throw new FileNotFoundException($"image '{file.FullName}' does not exist", file.FullName);
        using var decoded = await PngCodec.ReadAsync(file.FullName, cancellationToken: cancellationToken);
        var max = decoded.PixelType switch { PixelType.UInt8 => 255f, PixelType.UInt16 => 65535f, _ => 1f };
        using var f = decoded.ToFloat32();
        using var resized = ImageBuffer.Create(size, size, f.Channels, PixelType.Float32);
        Resample.Resize(f.Pixels<float>(), f.Width, f.Height, f.Channels, resized.Pixels<float>(), size, size,
            Resample.ModelRule(f.Width, size), Resample.ModelRule(f.Height, size)); // docs/preprocessing.md's per-axis rule
        var px = resized.Pixels<float>();
        int plane = size * size, src = resized.Channels;
        if (src != channels && channels != 1)
            throw new ArgumentException($"image '{file.Name}' has {src} channels; the model needs {channels}");
        var colour = Math.Min(src, 3); // alpha ignored
        var result = new float[channels * plane];
        for (var k = 0; k < plane; k++)
            for (var c = 0; c < channels; c++)
            {
                float v;
                if (channels == 1 && colour > 1) { v = 0; for (var s = 0; s < colour; s++) v += px[k * src + s]; v /= colour; }
                else v = px[k * src + c];
                result[c * plane + k] = (float)(range.Min + v / max * (range.Max - range.Min));
            }
        return result;
    }

    private static async Task WritePngAsync(string path, float[] planar, int size, int channels, (double Min, double Max) range, CancellationToken cancellationToken)
    {
        int plane = size * size;
        var interleaved = new ushort[channels * plane];
        for (var k = 0; k < plane; k++)
            for (var c = 0; c < channels; c++)
            {
                var v = (planar[c * plane + k] - range.Min) / (range.Max - range.Min);
                interleaved[k * channels + c] = (ushort)Math.Clamp(Math.Round(v * 65535.0), 0, 65535);
            }
        using var image = ImageBuffer.FromSamples<ushort>(size, size, channels, interleaved);
        await PngCodec.WriteAsync(path, image, cancellationToken: cancellationToken);
    }
}

/// <summary><c>pipeline model inspect &lt;package&gt;</c>: components, bindings, graph shapes, schedule; hashes verified.</summary>
public sealed class ModelCommands : ICommandGroup
{
    public Command Build()
    {
        var modelCmd = new Command("model", "Model packages: inspect a folder, upload it to models/.");
        var inspect = new Command("inspect", "Verify a model package (SHA-256 of every file, bindings against the ONNX graphs) and print its contents.");
        var path = new Argument<DirectoryInfo>("package") { Description = "Model package folder." };
        inspect.Arguments.Add(path);
        inspect.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetValue(path)!;
            try
            {
                var p = await ModelPackage.LoadAsync(dir.FullName, cancellationToken);
                using var m = InpaintingModel.Open(p);
                AnsiConsole.MarkupLineInterpolated($"[bold]{p.Name}[/] {p.Version}: {p.Description}");
                Console.WriteLine($"kind {p.Kind}, {p.Resolution}x{p.Resolution}x{p.ImageChannels}, value range [{p.ValueRange.Min}, {p.ValueRange.Max}], inpainting {p.Inpainting}" +
                    (p.Latent is { } l ? $", latent {l.Channels}ch /{l.Downsample} x{l.ScalingFactor}" : ""));
                Console.WriteLine($"reference: {p.Reference.Input} {p.Reference.Channels}x{p.Reference.Size}x{p.Reference.Size}, unconditional = {p.Reference.Null}");
                var table = new Table().AddColumns("component", "file", "sha256", "role", "graph tensor", "type", "shape");
                foreach (var (c, s) in new (ModelComponent?, OrtSession?)[] { (p.Denoiser, m.Denoiser), (p.VaeEncoder, m.VaeEncoder), (p.VaeDecoder, m.VaeDecoder), (p.ReferenceEncoder, m.ReferenceEncoder) })
                {
                    if (c is null || s is null) continue;
                    var first = true;
                    foreach (var (role, name, node) in c.Inputs.Select(kv => (kv.Key, kv.Value, s.FindInput(kv.Value)!))
                                 .Concat(c.Outputs.Select(kv => ("→ " + kv.Key, kv.Value, s.FindOutput(kv.Value)!))))
                    {
                        table.AddRow(new[] { first ? c.Name : "", first ? c.File : "", first ? c.Sha256[..16] + "… ok" : "", role, name, node.ElementType.ToString(), node.ShapeText }
                            .Select(Markup.Escape).ToArray());
                        first = false;
                    }
                }
                AnsiConsole.Write(table);
                var sch = p.Schedule;
                Console.WriteLine($"schedule: T={sch.NumTrainTimesteps} {SchedulerNames.ToName(sch.BetaSchedule)} {sch.BetaStart}..{sch.BetaEnd}, prediction {SchedulerNames.ToName(sch.PredictionType)}, clip {sch.ClipSample}");
                Console.WriteLine($"sampler: {p.Sampler.Scheduler}, {p.Sampler.Steps} steps, eta {p.Sampler.Eta}, spacing {SchedulerNames.ToName(p.Sampler.TimestepSpacing)} offset {p.Sampler.StepsOffset}; guidance {p.Guidance.Scale}");
                Console.WriteLine($"ONNX Runtime {OrtEnvironment.Version} ({string.Join(", ", OrtEnvironment.AvailableProviders)}), sessions on {m.Denoiser.ExecutionProvider}");
                Console.WriteLine("all files verified");
                return ExitCodes.Ok;
            }
            catch (ModelPackageException e) { Console.Error.WriteLine($"model inspect: {e.Message}"); return dir.Exists ? ExitCodes.Failures : ExitCodes.NotFound; }
            catch (OrtException e) { Console.Error.WriteLine($"model inspect: {e.Message}"); return ExitCodes.Unavailable; }
        });
        modelCmd.Subcommands.Add(inspect);
        return modelCmd;
    }
}
