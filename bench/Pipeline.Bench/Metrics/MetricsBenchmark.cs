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
        int size = Arg(args, "--size", 512), dim = Arg(args, "--dim", 2048), repeats = Arg(args, "--repeats", 20), fdRepeats = Arg(args, "--fd-repeats", 3);
        bool managed = args.Contains("--managed");
        int threads = Arg(args, "--threads", 1);
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
        var py = JsonNode.Parse(await Python(peer, "ssim", Path.Combine(dir, "a.f64"), Path.Combine(dir, "b.f64"), size.ToString(), "10"))!;
        var shape = new PlaneShape(size, size);
        var o = new SsimOptions(1.0);
        double value = 0;
        for (int i = 0; i < 3; i++) value = StructuralSimilarity.Compute(a, b, shape, o).Whole; // JIT warm-up
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            value = StructuralSimilarity.Compute(a, b, shape, o).Whole;
            times.Add(sw.Elapsed.TotalSeconds);
        }
        double ours = Median(times), theirs = Median(py["times_s"]!.AsArray().Select(t => t!.GetValue<double>()));
        double pyValue = py["value"]!.GetValue<double>();
        Console.WriteLine($"SSIM {size}x{size}: Pipeline.Metrics {ours * 1e3:F2} ms, scikit-image {theirs * 1e3:F2} ms, ratio {theirs / ours:F1}x, |diff| {Math.Abs(value - pyValue):E1}");
        return new JsonObject
        {
            ["size"] = size, ["pipelineMedianMs"] = Math.Round(ours * 1e3, 3), ["skimageMedianMs"] = Math.Round(theirs * 1e3, 3),
            ["speedup"] = Math.Round(theirs / ours, 2), ["pipelineValue"] = value, ["skimageValue"] = pyValue, ["absDiff"] = Math.Abs(value - pyValue),
            ["note"] = "single thread on both sides; medians of 20 (ours, after 3 warm-up runs) and 10 (scikit-image) runs",
        };
    }

    private static async Task<JsonObject> Fd(int dim, int repeats, bool managed, string peer, string dir)
    {
        await Python(peer, "fd-prepare", dir, dim.ToString(), "7");
        double[] Read(string f) => MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(Path.Combine(dir, f))).ToArray();
        var s1 = new FeatureStatistics(Read("mu1.f64"), Read("s1.f64"), 0);
        var s2 = new FeatureStatistics(Read("mu2.f64"), Read("s2.f64"), 0);
        // The machine is shared: interleave the three paths repeat by repeat so load changes hit them alike.
        var tOurs = new List<double>(); var tSqrtm = new List<double>(); var tEigh = new List<double>();
        double vOurs = 0, vSqrtm = 0, vEigh = 0;
        for (int rep = 0; rep < repeats; rep++)
        {
            var py = JsonNode.Parse(await Python(peer, "fd", dir, dim.ToString(), "1"))!;
            tSqrtm.Add(py["sqrtm"]!["times_s"]![0]!.GetValue<double>()); vSqrtm = py["sqrtm"]!["value"]!.GetValue<double>();
            tEigh.Add(py["eigh"]!["times_s"]![0]!.GetValue<double>()); vEigh = py["eigh"]!["value"]!.GetValue<double>();
            var sw = Stopwatch.StartNew();
            vOurs = FrechetDistance.Compute(s1, s2).Distance;
            tOurs.Add(sw.Elapsed.TotalSeconds);
        }
        var native = (Median: Median(tOurs), Value: vOurs);
        double sqrtm = Median(tSqrtm), eigh = Median(tEigh);
        Console.WriteLine($"FD d={dim}: Pipeline.Metrics {native.Median:F2} s, scipy sqrtm {sqrtm:F2} s ({sqrtm / native.Median:F1}x), numpy eigh {eigh:F2} s ({eigh / native.Median:F1}x); values {native.Value:R} / {vSqrtm:R} / {vEigh:R}");
        var o = new JsonObject
        {
            ["dim"] = dim, ["repeats"] = repeats,
            ["pipelineMedianS"] = Math.Round(native.Median, 4), ["scipySqrtmMedianS"] = Math.Round(sqrtm, 4), ["numpyEighMedianS"] = Math.Round(eigh, 4),
            ["speedupVsScipySqrtm"] = Math.Round(sqrtm / native.Median, 2), ["speedupVsNumpyEigh"] = Math.Round(eigh / native.Median, 2),
            ["pipelineValue"] = native.Value, ["scipySqrtmValue"] = vSqrtm, ["numpyEighValue"] = vEigh,
            ["relDiffVsScipySqrtm"] = Math.Abs(native.Value - vSqrtm) / Math.Abs(vSqrtm),
            ["note"] = "from covariances (the statistics step excluded on both sides); the same OpenBLAS with the same thread count on both sides; paths interleaved per repeat",
        };
        if (managed)
        {
            var sw = Stopwatch.StartNew();
            var mv = FrechetDistance.Compute(s1, s2, new FrechetOptions { Backend = LinearAlgebraBackend.Managed }).Distance;
            var m = (Median: sw.Elapsed.TotalSeconds, Value: mv);
            Console.WriteLine($"FD d={dim} managed (MathNet): {m.Median:F2} s");
            o["managedMathNetS"] = Math.Round(m.Median, 3);
            o["managedValue"] = m.Value;
        }
        return o;
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }

    private static async Task<string> Python(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["OPENBLAS_NUM_THREADS"] = _threads.ToString();
        psi.Environment["OMP_NUM_THREADS"] = _threads.ToString();
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"python peer failed ({p.ExitCode}): {await stderr}");
        return await stdout;
    }
}
