using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.RangeView;
using Pipeline.Driving.Synthetic;
using RV = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Bench.Driving;

/// <summary>
/// MObI's range path for one sample and one object: point cloud -> range view (32 x 1096) -> the box's range corners ->
/// range crop -> normalisation -> resize to D x D, in Pipeline.Driving and in numpy (bench/Pipeline.Bench/Driving/
/// driving_peer.py, /usr/bin/python3), side by side in one run on the same synthetic sweep and box; outputs compared.
/// Options: --repeats R (200), --resolution D (256), --passes P (5). Writes bench/results/driving.json.
/// </summary>
public sealed class DrivingBenchmark : IBenchmark
{
    public string Name => "driving";
    public string Description => "range view + range crop + normalisation + resize for one sample and one object vs numpy";

    public async Task<int> RunAsync(string[] args)
    {
        int repeats = BenchArgs.Int(args, "--repeats", 200), resolution = BenchArgs.Int(args, "--resolution", 256), passes = BenchArgs.Int(args, "--passes", 5);
        string peer = Path.Combine("bench", "Pipeline.Bench", "Driving", "driving_peer.py");
        if (!File.Exists(peer)) { Console.Error.WriteLine($"run from the repository root: {peer} not found"); return 2; }
        var tmp = Directory.CreateTempSubdirectory("pipeline-bench-driving-");
        try
        {
            // one synthetic key frame; the object with the most lidar points
            await SyntheticDrivingDataset.WriteToFolderAsync(new SyntheticDrivingOptions { Scenes = 1, SamplesPerScene = 1, Seed = 11, CameraWidth = 160, CameraHeight = 90 }, tmp.FullName);
            var db = await NuScenesDataset.LoadAsync(tmp.FullName);
            var sample = await DrivingSample.LoadAsync(tmp.FullName, db, db.Samples[0]);
            var obj = sample.Objects.OrderByDescending(o => o.Annotation.NumLidarPts).First();
            var box = sample.InLidar(obj.GlobalBox);
            var points = sample.LidarPoints;
            string corners = Path.Combine(tmp.FullName, "corners.json");
            await File.WriteAllTextAsync(corners, JsonSerializer.Serialize(box.Corners().Select(c => c.ToArray())));
            string cloud = Path.Combine(tmp.FullName, "points.pcd.bin");
            await File.WriteAllBytesAsync(cloud, LidarPointCloud.Encode(points));

            RangeImage Once() => RangeImage.Create(RV.FromPoints(points, LidarPointCloud.Stride), RangeBox.Project(box), resolution);
            var ours = Once();
            var view = RV.FromPoints(points, LidarPointCloud.Stride);
            for (int i = 0; i < 20; i++) Once(); // warm-up (JIT tiers)

            var oursPasses = new List<double>(); var peerPasses = new List<double>();
            var oursCpu = new List<double>(); var peerCpu = new List<double>();
            var process = Process.GetCurrentProcess();
            JsonNode? peerInfo = null;
            for (int p = 0; p < passes; p++)
            {
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < repeats; i++) Once();
                oursPasses.Add(sw.Elapsed.TotalSeconds / repeats);
                process.Refresh();
                oursCpu.Add((process.TotalProcessorTime - cpu0).TotalSeconds / repeats);
                peerInfo = JsonNode.Parse(await PythonPeer.RunAsync(peer, 1, cloud, corners, resolution.ToString(), repeats.ToString(), Path.Combine(tmp.FullName, "peer")));
                var times = peerInfo!["seconds"]!.AsArray().Select(x => x!.GetValue<double>()).Order().ToArray();
                peerPasses.Add(times[times.Length / 2]);
                var cpuTimes = peerInfo["cpu_seconds"]!.AsArray().Select(x => x!.GetValue<double>()).Order().ToArray();
                peerCpu.Add(cpuTimes.Average());
            }
            // where our time goes: the range view alone
            var swView = Stopwatch.StartNew();
            for (int i = 0; i < repeats; i++) RV.FromPoints(points, LidarPointCloud.Stride);
            double viewOnly = swView.Elapsed.TotalSeconds / repeats;
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            int gen2 = GC.CollectionCount(2);
            for (int i = 0; i < repeats; i++) Once();
            double bytesPerOp = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)repeats;
            double gen2PerOp = (GC.CollectionCount(2) - gen2) / (double)repeats;
            var peerDepth = MemoryMarshal.Cast<byte, float>(await File.ReadAllBytesAsync(Path.Combine(tmp.FullName, "peer.depth.f32"))).ToArray();
            var peerIntensity = MemoryMarshal.Cast<byte, float>(await File.ReadAllBytesAsync(Path.Combine(tmp.FullName, "peer.intensity.f32"))).ToArray();
            double maxDepthDiff = peerDepth.Zip(ours.Depth, (a, b) => Math.Abs(a - b)).Max();
            double maxIntensityDiff = peerIntensity.Zip(ours.Intensity, (a, b) => Math.Abs(a - b)).Max();
            bool same = peerInfo!["kept"]!.GetValue<int>() == view.Kept && peerInfo["collided"]!.GetValue<int>() == view.Collided
                        && peerInfo["start"]!.GetValue<int>() == ours.Crop.Start && peerInfo["crop_width"]!.GetValue<int>() == ours.Crop.CropWidth
                        && maxDepthDiff <= 1e-5 && maxIntensityDiff <= 1e-5;
            double oursMedian = Median(oursPasses), peerMedian = Median(peerPasses);
            double oursCpuMedian = Median(oursCpu), peerCpuMedian = Median(peerCpu);
            var result = new JsonObject
            {
                ["benchmark"] = Name,
                ["description"] = $"One synthetic LIDAR_TOP sweep ({points.Length / LidarPointCloud.Stride} points) and its most-hit object ({obj.Category}, {obj.Annotation.NumLidarPts} points): range view 32x1096 (yaw/pitch kept), box corners into the view, x3-tiled range crop (width {ours.Crop.CropWidth}), object-aware depth + exponential intensity normalisation, resize to {resolution}x{resolution}. Ours: Pipeline.Driving (RangeView.FromPoints, RangeBox.Project, RangeImage.Create), single-threaded. Peer: numpy {peerInfo["numpy"]} in one /usr/bin/python3 process (driving_peer.py), same file and box. Per pass: mean of {repeats} repeats (ours) and median of {repeats} repeats (peer); the medians over {passes} passes are compared, as wall time and as process CPU time (user+sys; ours: the whole process over the pass, so GC and JIT threads count; peer: time.process_time per repeat, averaged). CPU time is the fairer measure on this heavily shared machine (load average below).",
                ["command"] = "dotnet run -c Release --project bench/Pipeline.Bench -- driving",
                ["date"] = DateTimeOffset.UtcNow.ToString("u"),
                ["machine"] = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}",
                ["loadAverageAtStart"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
                ["target"] = ">= 5x",
                ["oursMsMedian"] = Math.Round(oursMedian * 1e3, 3),
                ["peerMsMedian"] = Math.Round(peerMedian * 1e3, 3),
                ["speedup"] = Math.Round(peerMedian / oursMedian, 2),
                ["oursCpuMsMedian"] = Math.Round(oursCpuMedian * 1e3, 3),
                ["peerCpuMsMedian"] = Math.Round(peerCpuMedian * 1e3, 3),
                ["speedupCpu"] = Math.Round(peerCpuMedian / oursCpuMedian, 2),
                ["oursRangeViewOnlyMs"] = Math.Round(viewOnly * 1e3, 3),
                ["oursAllocatedKbPerRepeat"] = Math.Round(bytesPerOp / 1024, 1),
                ["oursGen2CollectionsPerRepeat"] = Math.Round(gen2PerOp, 3),
                ["oursMsAllPasses"] = new JsonArray(oursPasses.Select(x => (JsonNode)Math.Round(x * 1e3, 3)).ToArray()),
                ["peerMsAllPasses"] = new JsonArray(peerPasses.Select(x => (JsonNode)Math.Round(x * 1e3, 3)).ToArray()),
                ["outputsAgree"] = same,
                ["keptPoints"] = view.Kept,
                ["collidedPoints"] = view.Collided,
                ["maxAbsDiffDepthPlane"] = maxDepthDiff,
                ["maxAbsDiffIntensityPlane"] = maxIntensityDiff,
            };
            Console.WriteLine($"wall: ours {oursMedian * 1e3:0.000} ms, numpy {peerMedian * 1e3:0.000} ms: {peerMedian / oursMedian:0.00}x; CPU: ours {oursCpuMedian * 1e3:0.000} ms, numpy {peerCpuMedian * 1e3:0.000} ms: {peerCpuMedian / oursCpuMedian:0.00}x; outputs agree: {same} (max |diff| depth {maxDepthDiff:g3}, intensity {maxIntensityDiff:g3})");
            Directory.CreateDirectory(Path.Combine("bench", "results"));
            string path = Path.Combine("bench", "results", "driving.json");
            await File.WriteAllTextAsync(path, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {path}");
            return same ? 0 : 1;
        }
        finally
        {
            tmp.Delete(true);
        }
    }

    private static double Median(List<double> v) { var s = v.Order().ToArray(); return s[s.Length / 2]; }
}
