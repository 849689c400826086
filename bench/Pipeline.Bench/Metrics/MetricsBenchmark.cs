using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Metrics.Distribution;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Bench.Metrics;

/// <summary>
/// SSIM at 512x512 against scikit-image, and the Fréchet distance at d = 2048 (from covariances) against the scipy
/// sqrtm path (pytorch-fid) and the numpy eigh path, side by side in one run with the Python peer
/// (bench/Pipeline.Bench/Metrics/metrics_peer.py, /usr/bin/python3). Writes bench/results/metrics.json.
/// Options: --size N (SSIM side, 512), --dim D (2048), --repeats R (SSIM repeats, 20), --fd-repeats R (3), --managed (also time the MathNet path),
/// --only ssim|fd (print one part, write nothing), --threads N (OpenBLAS threads on both sides, 1).
/// </summary>
public sealed class MetricsBenchmark : IBenchmark
{
    public string Name => "metrics";

    private static int _threads = 1;

    public string Description => "SSIM 512x512 vs scikit-image; Fréchet distance d=2048 vs scipy sqrtm and numpy eigh";

    public async Task<int> RunAsync(string[] args)
    {
        int size = BenchArgs.Int(args, "--size", 512), dim = BenchArgs.Int(args, "--dim", 2048), repeats = BenchArgs.Int(args, "--repeats", 20), fdRepeats = BenchArgs.Int(args, "--fd-repeats", 3);
        bool managed = args.Contains("--managed");
        int threads = BenchArgs.Int(args, "--threads", 1);
        if (!DenseLinearAlgebra.TrySetNativeThreads(threads)) Console.Error.WriteLine("note: could not set the OpenBLAS thread count");
        _threads = threads;
        int only = Array.IndexOf(args, "--only");
        string? part = only >= 0 && only + 1 < args.Length ? args[only + 1] : null; // "ssim" or "fd": a quick look, results/metrics.json untouched
        string peer = Path.Combine("bench", "Pipeline.Bench", "Metrics", "metrics_peer.py");
        if (!File.Exists(peer)) { Console.Error.WriteLine($"run from the repository root: {peer} not found"); return 2; }
        var tmp = Directory.CreateTempSubdirectory("pipeline-bench-metrics-");
        try
        {
            if (part == "ssim") { await Ssim(size, repeats, peer, tmp.FullName); return 0; }
            if (part == "fd") { await Fd(dim, fdRepeats, managed, peer, tmp.FullName); return 0; }
            var result = new JsonObject
            {
                ["benchmark"] = Name,
                ["date"] = DateTimeOffset.UtcNow.ToString("u"),
                ["machine"] = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}",
                ["blasThreads"] = _threads,
                ["loadAverageAtStart"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
                ["linearAlgebra"] = DenseLinearAlgebra.NativeAvailable ? "native LAPACKE/OpenBLAS" : $"managed ({DenseLinearAlgebra.NativeUnavailableReason})",
                ["ssim"] = await Ssim(size, repeats, peer, tmp.FullName),
                ["fd"] = await Fd(dim, fdRepeats, managed, peer, tmp.FullName),
            };
            Directory.CreateDirectory(Path.Combine("bench", "results"));
            string path = Path.Combine("bench", "results", "metrics.json");
            await File.WriteAllTextAsync(path, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {path}");
            return 0;
        }
        finally
        {
            tmp.Delete(true);
        }
    }

    private static async Task<JsonObject> Ssim(int size, int repeats, string peer, string dir)
    {
        var rng = new Random(1);
        var a = new float[size * size];
        var b = new float[size * size];
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            double v = 0.5 + 0.25 * Math.Sin(x * 0.05) * Math.Cos(y * 0.03) + 0.1 * rng.NextDouble();
            a[y * size + x] = (float)v;
            b[y * size + x] = (float)Math.Clamp(0.8 * v + 0.1 + 0.05 * rng.NextDouble(), 0, 1);
        }
        await File.WriteAllBytesAsync(Path.Combine(dir, "a.f64"), MemoryMarshal.AsBytes(a.Select(v => (double)v).ToArray().AsSpan()).ToArray());
        await File.WriteAllBytesAsync(Path.Combine(dir, "b.f64"), MemoryMarshal.AsBytes(b.Select(v => (double)v).ToArray().AsSpan()).ToArray());
        var py = JsonNode.Parse(await PythonPeer.RunAsync(peer, _threads, "ssim", Path.Combine(dir, "a.f64"), Path.Combine(dir, "b.f64"), size.ToString(), "10"))!;
        var shape = new PlaneShape(size, size);
        var o = new SsimOptions(1.0);
        double value = 0;
        // Warm-up past tiered compilation (tier 0 and OSR code for the first ~30 calls, then optimised code with PGO).
        for (int i = 0; i < 60; i++) value = StructuralSimilarity.Compute(a, b, shape, o).Whole;
        Thread.Sleep(200); // let the background tier-1 compilations finish
        var times = new List<double>();
        var cpu = new List<double>();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < repeats; i++)
        {
            var c0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            value = StructuralSimilarity.Compute(a, b, shape, o).Whole;
            times.Add(sw.Elapsed.TotalSeconds);
            cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds);
        }
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - allocated) / repeats;
        // MS-SSIM on the same images, same kernels (no peer: scikit-image has no MS-SSIM).
        var msTimes = new List<double>();
        double ms = 0;
        for (int i = 0; i < Math.Max(3, repeats / 4); i++)
        {
            var sw = Stopwatch.StartNew();
            ms = MultiScaleStructuralSimilarity.Compute(a, b, shape, o).Whole;
            msTimes.Add(sw.Elapsed.TotalSeconds);
        }
        double ours = Median(times), theirs = Median(py["times_s"]!.AsArray().Select(t => t!.GetValue<double>()));
        double oursCpu = Median(cpu), theirsCpu = Median(py["cpu_s"]!.AsArray().Select(t => t!.GetValue<double>()));
        double pyValue = py["value"]!.GetValue<double>();
        Console.WriteLine($"SSIM {size}x{size}: Pipeline.Metrics {ours * 1e3:F2} ms wall / {oursCpu * 1e3:F2} ms CPU, scikit-image {theirs * 1e3:F2} / {theirsCpu * 1e3:F2} ms, ratio {theirs / ours:F1}x wall, {theirsCpu / oursCpu:F1}x CPU, |diff| {Math.Abs(value - pyValue):E1}, {perCall} bytes allocated per call; MS-SSIM {Median(msTimes) * 1e3:F2} ms");
        return new JsonObject
        {
            ["size"] = size, ["pipelineMedianMs"] = Math.Round(ours * 1e3, 3), ["skimageMedianMs"] = Math.Round(theirs * 1e3, 3),
            ["pipelineCpuMedianMs"] = Math.Round(oursCpu * 1e3, 3), ["skimageCpuMedianMs"] = Math.Round(theirsCpu * 1e3, 3),
            ["speedup"] = Math.Round(theirs / ours, 2), ["cpuSpeedup"] = Math.Round(theirsCpu / oursCpu, 2),
            ["pipelineValue"] = value, ["skimageValue"] = pyValue, ["absDiff"] = Math.Abs(value - pyValue),
            ["bytesAllocatedPerCall"] = perCall,
            ["msssimMedianMs"] = Math.Round(Median(msTimes) * 1e3, 3), ["msssimValue"] = ms,
            ["note"] = $"single thread on both sides; medians of {repeats} (ours, after 60 warm-up runs) and 10 (scikit-image) runs; CPU = process CPU time; the bytes allocated per call are the result record only",
        };
    }

    private static async Task<JsonObject> Fd(int dim, int repeats, bool managed, string peer, string dir)
    {
        await PythonPeer.RunAsync(peer, _threads, "fd-prepare", dir, dim.ToString(), "7");
        double[] Read(string f) => MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(Path.Combine(dir, f))).ToArray();
        var s1 = new FeatureStatistics(Read("mu1.f64"), Read("s1.f64"), 0);
        var s2 = new FeatureStatistics(Read("mu2.f64"), Read("s2.f64"), 0);
        FrechetDistance.Compute(s1, s2); // warm-up: JIT and the native libraries' first load
        // The machine is shared: interleave the three paths repeat by repeat so load changes hit them alike, and
        // compare CPU seconds (each side single-threaded) as well as wall time.
        var tOurs = new List<double>(); var cOurs = new List<double>();
        var tSqrtm = new List<double>(); var cSqrtm = new List<double>(); var tEigh = new List<double>(); var cEigh = new List<double>();
        double vSqrtm = 0, vEigh = 0;
        FrechetResult ours = null!;
        string? peerBlas = null;
        for (int rep = 0; rep < repeats; rep++)
        {
            var py = JsonNode.Parse(await PythonPeer.RunAsync(peer, _threads, "fd", dir, dim.ToString(), "1"))!;
            peerBlas = py["blas"]?.GetValue<string>();
            tSqrtm.Add(py["sqrtm"]!["times_s"]![0]!.GetValue<double>()); cSqrtm.Add(py["sqrtm"]!["cpu_s"]![0]!.GetValue<double>()); vSqrtm = py["sqrtm"]!["value"]!.GetValue<double>();
            tEigh.Add(py["eigh"]!["times_s"]![0]!.GetValue<double>()); cEigh.Add(py["eigh"]!["cpu_s"]![0]!.GetValue<double>()); vEigh = py["eigh"]!["value"]!.GetValue<double>();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            ours = FrechetDistance.Compute(s1, s2);
            tOurs.Add(sw.Elapsed.TotalSeconds);
            cOurs.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        }
        double wall = Median(tOurs), cpuOurs = Median(cOurs), sqrtm = Median(tSqrtm), eigh = Median(tEigh), cpuSqrtm = Median(cSqrtm), cpuEigh = Median(cEigh);
        double rel = Math.Abs(ours.Distance - vSqrtm) / Math.Abs(vSqrtm);
        Console.WriteLine($"BLAS: Pipeline.Metrics {DenseLinearAlgebra.NativeDescription}; peer {peerBlas}");
        Console.WriteLine($"FD d={dim} ({ours.Method}): Pipeline.Metrics {wall:F2} s wall / {cpuOurs:F2} s CPU, scipy sqrtm {sqrtm:F2} / {cpuSqrtm:F2} s (CPU ratio {cpuSqrtm / cpuOurs:F1}x), numpy eigh {eigh:F2} / {cpuEigh:F2} s ({cpuEigh / cpuOurs:F1}x); values {ours.Distance:R} / {vSqrtm:R} / {vEigh:R} (rel diff vs sqrtm {rel:E1})");
        var o = new JsonObject
        {
            ["dim"] = dim, ["repeats"] = repeats, ["method"] = ours.Method.ToString(),
            ["pipelineMedianS"] = Math.Round(wall, 4), ["pipelineCpuMedianS"] = Math.Round(cpuOurs, 4),
            ["scipySqrtmMedianS"] = Math.Round(sqrtm, 4), ["scipySqrtmCpuMedianS"] = Math.Round(cpuSqrtm, 4),
            ["numpyEighMedianS"] = Math.Round(eigh, 4), ["numpyEighCpuMedianS"] = Math.Round(cpuEigh, 4),
            ["speedupVsScipySqrtm"] = Math.Round(sqrtm / wall, 2), ["cpuSpeedupVsScipySqrtm"] = Math.Round(cpuSqrtm / cpuOurs, 2),
            ["speedupVsNumpyEigh"] = Math.Round(eigh / wall, 2), ["cpuSpeedupVsNumpyEigh"] = Math.Round(cpuEigh / cpuOurs, 2),
            ["pipelineValue"] = ours.Distance, ["scipySqrtmValue"] = vSqrtm, ["numpyEighValue"] = vEigh,
            ["relDiffVsScipySqrtm"] = rel,
            ["blasPipeline"] = DenseLinearAlgebra.NativeDescription, ["blasPeer"] = peerBlas,
            ["note"] = "from covariances (the statistics step excluded on both sides); one OpenBLAS thread on both sides; paths interleaved per repeat; CPU = process CPU seconds of each side",
        };
        if (managed)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var mv = FrechetDistance.Compute(s1, s2, new FrechetOptions { Backend = LinearAlgebraBackend.Managed }).Distance;
            double mWall = sw.Elapsed.TotalSeconds, mCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            Console.WriteLine($"FD d={dim} managed fallback: {mWall:F2} s wall / {mCpu:F2} s CPU, value {mv:R}");
            o["managedS"] = Math.Round(mWall, 3);
            o["managedCpuS"] = Math.Round(mCpu, 3);
            o["managedValue"] = mv;
        }
        return o;
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
    }
}
