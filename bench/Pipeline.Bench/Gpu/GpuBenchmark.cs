using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Bench.Inference;
using Pipeline.Inference.Onnx;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Bench.Gpu;

/// <summary>
/// The committed models (models/mammo-tiny, models/driving-tiny) on the CUDA execution provider: the pipeline's
/// sampler vs a bare ORT loop of the same denoiser runs, CFG as one call of 2N rows vs two calls of N rows (target
/// >= 1.5x), and images/s; wall-clock time (the GPU computes, the calling thread waits). The CUDA provider must be
/// created: the sessions are opened with FallbackToCpu = false and checked, so a missing provider fails the run
/// instead of measuring the CPU. Writes bench/results/gpu.json with the device (nvidia-smi name, driver, CUDA).
/// <c>--device cpu</c> is a dry run of the same measurements on the CPU provider, written to
/// bench/results/gpu-dryrun-cpu.json (not a GPU result; not committed). Reuses the inference benchmark's bare loop
/// and items. Run through bench/gpu.sh (builds with -p:OnnxRuntimeFlavor=Gpu).
/// Usage: bench gpu [--device cuda|cpu] [--items 8] [--steps 20] [--repeats 5] [--device-id 0] [--out PATH]
/// </summary>
public sealed class GpuBenchmark : IBenchmark
{
    public string Name => "gpu";
    public string Description => "CUDA EP: committed models' sampler vs bare ORT loop, CFG batched vs two calls, images/s (--device cpu: dry run)";

    /// <summary>Float16 graphs: why none are measured (stated in the result rather than left out silently).</summary>
    public const string Float16Note =
        "not measured: no float16 graph of the committed models exists and none was produced where this benchmark was " +
        "written (its Python has neither onnx nor onnxconverter-common). The model-package contract and the sampler bind " +
        "float32 tensors, so a float16 denoiser would need Cast nodes at its edges (onnxconverter_common.float16." +
        "convert_float_to_float16(model, keep_io_types=True) makes those) and its own package with the new SHA-256.";

    public async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help"))
        {
            Console.WriteLine("gpu [--device cuda|cpu] [--items 8] [--steps 20] [--repeats 5] [--device-id 0] [--out PATH]: " +
                              "sampler vs bare ORT loop, CFG batched vs two calls, images/s on the CUDA EP; --device cpu = dry run " +
                              "on the CPU EP to bench/results/gpu-dryrun-cpu.json. Build with -p:OnnxRuntimeFlavor=Gpu (bench/gpu.sh).");
            return 0;
        }
        int di = Array.IndexOf(args, "--device");
        string device = di >= 0 && di + 1 < args.Length ? args[di + 1] : "cuda";
        if (device is not ("cuda" or "cpu")) { Console.Error.WriteLine($"gpu: --device must be cuda or cpu, not '{device}'"); return 2; }
        bool cuda = device == "cuda";
        int items = BenchArgs.Int(args, "--items", 8), steps = BenchArgs.Int(args, "--steps", 20), repeats = BenchArgs.Int(args, "--repeats", 5);
        int deviceId = BenchArgs.Int(args, "--device-id", 0);
        int oi = Array.IndexOf(args, "--out");
        var root = Directory.GetCurrentDirectory();
        string outPath = oi >= 0 && oi + 1 < args.Length ? args[oi + 1]
            : Path.Combine(root, "bench", "results", cuda ? "gpu.json" : "gpu-dryrun-cpu.json");

        JsonObject deviceInfo;
        if (cuda)
        {
            var smi = NvidiaSmi.Query();
            if (smi.Error is not null)
            {
                Console.Error.WriteLine($"gpu: no NVIDIA GPU: {smi.Error}. Nothing measured, nothing written. (--device cpu runs a dry run on the CPU.)");
                return 3;
            }
            if (!OrtEnvironment.AvailableProviders.Contains("CUDAExecutionProvider"))
            {
                Console.Error.WriteLine($"gpu: this build's ONNX Runtime {OrtEnvironment.Version} has no CUDA execution provider " +
                                        $"(providers: {string.Join(", ", OrtEnvironment.AvailableProviders)}); build with -p:OnnxRuntimeFlavor=Gpu (bench/gpu.sh). Nothing written.");
                return 3;
            }
            deviceInfo = new JsonObject
            {
                ["kind"] = "cuda", ["name"] = smi.Name, ["driver"] = smi.Driver, ["cudaVersionOfDriver"] = smi.CudaVersion,
                ["memoryTotal"] = smi.Memory, ["deviceId"] = deviceId,
                ["executionProvider"] = "CUDAExecutionProvider", ["cudaEpPackage"] = $"Microsoft.ML.OnnxRuntime.Gpu.Linux {OrtEnvironment.Version}",
            };
        }
        else
            deviceInfo = new JsonObject
            {
                ["kind"] = "cpu (dry run of the GPU benchmark's code path; not a GPU result)",
                ["cpu"] = $"{Environment.ProcessorCount} logical cores", ["executionProvider"] = "CPUExecutionProvider",
                ["ortPackageVersion"] = OrtEnvironment.Version,
            };

        var results = new JsonObject
        {
            ["benchmark"] = Name, ["date"] = DateTime.UtcNow.ToString("O"), ["device"] = deviceInfo,
            ["items"] = items, ["steps"] = steps, ["repeats"] = repeats, ["guidance"] = 3.0, ["scheduler"] = "ddim",
            ["timeBasis"] = "wall-clock seconds, fastest of the interleaved repeats (medians beside)",
            ["loadAverageAtStart"] = InferenceBenchmark.LoadAverage(),
            ["float16"] = Float16Note,
        };
        var sessionOptions = new OrtSessionOptions
        {
            ExecutionProvider = cuda ? OrtExecutionProvider.Cuda : OrtExecutionProvider.Cpu, CudaDeviceId = deviceId, FallbackToCpu = false,
        };
        var models = new JsonArray();
        foreach (var folder in new[] { "mammo-tiny", "driving-tiny" })
        {
            var package = await ModelPackage.LoadAsync(Path.Combine(root, "models", folder));
            InpaintingModel model;
            try { model = InpaintingModel.Open(package, options: sessionOptions); }
            catch (OrtExecutionProviderException e)
            {
                Console.Error.WriteLine($"gpu: {folder}: the CUDA execution provider could not be created: {e.Message} Nothing written.");
                return 4;
            }
            using var _ = model;
            string expected = cuda ? "CUDAExecutionProvider" : "CPUExecutionProvider";
            if (model.Denoiser.ExecutionProvider != expected)
            {
                Console.Error.WriteLine($"gpu: {folder}: the denoiser runs on {model.Denoiser.ExecutionProvider}, not {expected} ({model.Denoiser.ExecutionProviderNote}). Nothing written.");
                return 4;
            }
            var entry = Measure(model, package, folder, items, steps, repeats);
            entry["executionProvider"] = model.Denoiser.ExecutionProvider;
            models.Add(entry);
        }
        results["models"] = models;
        results["loadAverageAtEnd"] = InferenceBenchmark.LoadAverage();
        results["peakWorkingSetBytes"] = Process.GetCurrentProcess().PeakWorkingSet64;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        await File.WriteAllTextAsync(outPath, results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine($"wrote {outPath}");
        return 0;
    }

    /// <summary>One model: warm-up, then <paramref name="repeats"/> interleaved rounds of the sampler (CFG, N items),
    /// the bare loop with 2N rows per call, and the bare loop as two calls of N rows; <paramref name="steps"/> denoiser
    /// runs each.</summary>
    internal static JsonObject Measure(InpaintingModel model, ModelPackage package, string name, int items, int steps, int repeats)
    {
        var sampler = new InpaintingSampler(model, SchedulerFactory.Create);
        var batch = Enumerable.Range(0, items).Select(i => InferenceBenchmark.MakeItem(package, (ulong)i)).ToArray();
        var options = new SamplingOptions { Scheduler = "ddim", Steps = steps, GuidanceScale = 3.0, Seed = 1, MaxBatchSize = items };
        var bare = new InferenceBenchmark.BareLoop(model, items);
        sampler.Sample(batch, options); bare.Run(2 * items, steps); bare.RunTwoCalls(steps); // warm-up (CUDA kernels, cuDNN algorithm search)
        var tSampler = new List<double>(); var tBare = new List<double>(); var tTwo = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            tSampler.Add(Wall(() => sampler.Sample(batch, options)));
            tBare.Add(Wall(() => bare.Run(2 * items, steps)));
            tTwo.Add(Wall(() => bare.RunTwoCalls(steps)));
        }
        double ms = tSampler.Min(), mb = tBare.Min(), mt = tTwo.Min();
        Console.WriteLine($"{name,-13} sampler {ms * 1000,8:0.0} ms  bare ORT loop {mb * 1000,8:0.0} ms  ratio {mb / ms:0.000}  " +
                          $"CFG batched vs two calls {mt / mb:0.00}x (>= 1.5)  {items / ms:0.0} images/s");
        return new JsonObject
        {
            ["model"] = name, ["version"] = package.Version, ["resolution"] = package.Resolution,
            ["samplerSeconds"] = ms, ["bareOrtLoopSeconds"] = mb, ["twoCallsLoopSeconds"] = mt,
            ["medianSeconds"] = new JsonObject
            {
                ["sampler"] = InferenceBenchmark.Median(tSampler), ["bare"] = InferenceBenchmark.Median(tBare), ["twoCalls"] = InferenceBenchmark.Median(tTwo),
            },
            ["samplerVsBareThroughput"] = mb / ms, ["cfgBatchedVsTwoCallsSpeedup"] = mt / mb, ["cfgBatchedTarget"] = 1.5,
            ["imagesPerSecond"] = items / ms,
        };
    }

    private static double Wall(Action a) { var sw = Stopwatch.StartNew(); a(); return sw.Elapsed.TotalSeconds; }
}

/// <summary>The GPU as nvidia-smi names it; <see cref="Error"/> says why there is none.</summary>
internal sealed record NvidiaSmi(string? Name, string? Driver, string? CudaVersion, string? Memory, string? Error)
{
    public static NvidiaSmi Query()
    {
        try
        {
            var (rc, csv) = Run("--query-gpu=name,driver_version,memory.total --format=csv,noheader");
            if (rc != 0 || string.IsNullOrWhiteSpace(csv)) return new(null, null, null, null, $"nvidia-smi exited {rc} with no GPU listed");
            var f = csv.Split('\n')[0].Split(',', StringSplitOptions.TrimEntries);
            // the driver's CUDA version is printed only in nvidia-smi's header ("CUDA Version: 13.0")
            var (_, header) = Run("");
            int at = header.IndexOf("CUDA Version:", StringComparison.Ordinal);
            string? cudaVersion = at >= 0 ? header[(at + 13)..].Trim().Split(' ', '|')[0] : null;
            return new(f[0], f.ElementAtOrDefault(1), cudaVersion, f.ElementAtOrDefault(2), null);
        }
        catch (System.ComponentModel.Win32Exception e) { return new(null, null, null, null, $"nvidia-smi cannot be run ({e.Message})"); }
    }

    private static (int, string) Run(string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo("nvidia-smi", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Trim());
    }
}
