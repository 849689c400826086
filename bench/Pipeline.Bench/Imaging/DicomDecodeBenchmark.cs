using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Bench.Imaging;

/// <summary>
/// Decode + window + zoom-in crop of the synthetic dataset's DICOMs, against pydicom + numpy (+ PIL for the resize) doing
/// the same in one run on the same files: read the file, decode the stored pixels, Modality LUT and the first LINEAR
/// window (PS3.3 C.11.2.1.2), crop a square of 3.5x the first box (zero padding) and resize it to 512x512 (area when
/// shrinking, bilinear when enlarging). Both sides do one warm-up pass; the median of the timed passes is reported.
/// Then the raster codecs (ImageSharp 2.1.13 behind PngCodec/JpegCodec) against PIL on the same images written as 16-bit
/// PNG (stored values) and 8-bit JPEG (quality 95, display rendering): decode to samples.
/// <c>dotnet run -c Release --project bench/Pipeline.Bench -- imaging [--count 16] [--passes 5]</c>
/// </summary>
public sealed class DicomDecodeBenchmark : IBenchmark
{
    public string Name => "imaging";
    public string Description => "DICOM decode + VOI window + zoom-in crop vs pydicom + numpy; PNG/JPEG decode vs PIL";

    private const string Peer = """
        import sys, json, time
        import numpy as np, pydicom
        from PIL import Image
        manifest = json.load(open(sys.argv[1])); passes = int(sys.argv[2]); R = 512
        def one(path, box):
            ds = pydicom.dcmread(path)
            a = ds.pixel_array.astype(np.float32)
            a = a * float(getattr(ds, 'RescaleSlope', 1)) + float(getattr(ds, 'RescaleIntercept', 0))
            wc = ds.WindowCenter; ww = ds.WindowWidth
            c = float(wc[0] if isinstance(wc, pydicom.multival.MultiValue) else wc)
            w = float(ww[0] if isinstance(ww, pydicom.multival.MultiValue) else ww)
            y = np.clip((a - (c - 0.5)) / (w - 1) + 0.5, 0.0, 1.0)
            if ds.PhotometricInterpretation == 'MONOCHROME1': y = 1.0 - y
            x0, y0, x1, y1 = box
            side = max(8, int(np.ceil(3.5 * max(x1 - x0, y1 - y0))))
            left = int(np.floor((x0 + x1) / 2 - side / 2)); top = int(np.floor((y0 + y1) / 2 - side / 2))
            crop = np.zeros((side, side), np.float32)
            H, W = y.shape
            sx0, sy0, sx1, sy1 = max(left, 0), max(top, 0), min(left + side, W), min(top + side, H)
            if sx1 > sx0 and sy1 > sy0: crop[sy0 - top:sy1 - top, sx0 - left:sx1 - left] = y[sy0:sy1, sx0:sx1]
            out = np.asarray(Image.fromarray(crop, 'F').resize((R, R), Image.BOX if side >= R else Image.BILINEAR))
            return float(out.mean())
        def raster(path):
            return float(np.asarray(Image.open(path)).mean())
        for p in range(passes + 1):
            t = time.perf_counter(); c = time.process_time(); s = 0.0
            for item in manifest: s += raster(item['path']) if item['box'] is None else one(item['path'], item['box'])
            if p > 0: print(json.dumps({'pass': p, 'seconds': time.perf_counter() - t, 'cpu': time.process_time() - c, 'checksum': s}), flush=True)
        """;

    public async Task<int> RunAsync(string[] args)
    {
        int count = 16, passes = 5;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--count") count = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            else if (args[i] == "--passes") passes = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        }
        bool stages = args.Contains("--stages");
        var dir = Path.Combine(Path.GetTempPath(), "pipeline-bench-imaging-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            Console.WriteLine($"generating {count} synthetic mammograms (1024x832, 16-bit) in {dir}...");
            var options = new SyntheticMammoOptions { Count = count, Seed = 2026 };
            var items = new List<(string Path, double[] Box)>();
            foreach (var img in SyntheticMammoDataset.Generate(options))
            {
                var path = Path.Combine(dir, img.ImageId + ".dcm");
                DicomFileWriter.Save(img.File, path);
                var l = img.Phantom.Lesions.FirstOrDefault();
                double[] box = l != null ? [l.Box.XMin, l.Box.YMin, l.Box.XMax, l.Box.YMax] : [380, 480, 460, 560];
                items.Add((path, box));
            }
            if (stages) { Stages(items); return 0; }
            var rows = new JsonArray();
            var pngs = items.Select(it => (Path: it.Path + ".png", Box: (double[]?)null)).ToList();
            var jpegs = items.Select(it => (Path: it.Path + ".jpg", Box: (double[]?)null)).ToList();
            foreach (var (it, i) in items.Select((it, i) => (it, i)))
            {
                using var image = DicomImage.Open(it.Path);
                File.WriteAllBytes(pngs[i].Path, PngCodec.Encode(image.Stored));
                using var display = DicomRenderer.Render(image);
                using var q = DicomRenderer.Quantise(display, 8);
                File.WriteAllBytes(jpegs[i].Path, JpegCodec.Encode(q, new JpegEncodeOptions { Quality = 95 }));
            }
            foreach (var (syntax, tool) in new[] { ("Explicit VR Little Endian", (string?)null), ("RLE Lossless", "dcmcrle"), ("PNG 16-bit gray", "png"), ("JPEG 8-bit gray q95", "jpeg") })
            {
                var files = items.Select(it => (it.Path, (double[]?)it.Box)).ToList();
                if (tool == "png") files = pngs;
                else if (tool == "jpeg") files = jpegs;
                else if (tool != null)
                {
                    files = items.Select(it => (it.Path + ".rle.dcm", (double[]?)it.Box)).ToList();
                    foreach (var (src, dst) in items.Zip(files, (a, b) => (a.Path, b.Item1)))
                        if (!RunTool(tool, src, dst)) { Console.Error.WriteLine($"{tool} failed; is dcmtk installed?"); return 1; }
                }
                var (ours, oursCpu, oursChecksum) = TimeOurs(files, passes);
                var (peer, peerCpu, peerChecksum) = await TimePeerAsync(files, passes, dir);
                if (peer.Count == 0) return 1;
                double oursMed = Median(ours), peerMed = Median(peer), oursCpuMed = Median(oursCpu), peerCpuMed = Median(peerCpu);
                var row = new JsonObject
                {
                    ["transferSyntax"] = syntax,
                    ["work"] = tool is "png" or "jpeg" ? "decode to samples" : "decode + window + zoom-in crop",
                    ["images"] = files.Count,
                    ["oursSecondsMedian"] = Math.Round(oursMed, 4),
                    ["peerSecondsMedian"] = Math.Round(peerMed, 4),
                    ["oursMsPerImage"] = Math.Round(oursMed * 1000 / files.Count, 2),
                    ["peerMsPerImage"] = Math.Round(peerMed * 1000 / files.Count, 2),
                    ["speedupWall"] = Math.Round(peerMed / oursMed, 2),
                    ["oursCpuMsPerImage"] = Math.Round(oursCpuMed * 1000 / files.Count, 2),
                    ["peerCpuMsPerImage"] = Math.Round(peerCpuMed * 1000 / files.Count, 2),
                    ["speedupCpu"] = Math.Round(peerCpuMed / oursCpuMed, 2),
                    ["loadAverage1m"] = LoadAverage(),
                    ["oursAllPasses"] = new JsonArray(ours.Select(v => (JsonNode)Math.Round(v, 4)).ToArray()),
                    ["peerAllPasses"] = new JsonArray(peer.Select(v => (JsonNode)Math.Round(v, 4)).ToArray()),
                    ["checksumOurs"] = Math.Round(oursChecksum, 3),
                    ["checksumPeer"] = Math.Round(peerChecksum, 3),
                };
                rows.Add(row);
                Console.WriteLine($"{syntax,-26} wall: ours {oursMed * 1000 / files.Count,6:0.0} ms/image, {(tool is "png" or "jpeg" ? "PIL" : "pydicom+numpy")} {peerMed * 1000 / files.Count,6:0.0} ({peerMed / oursMed:0.00}x); " +
                                  $"cpu: ours {oursCpuMed * 1000 / files.Count,6:0.0}, peer {peerCpuMed * 1000 / files.Count,6:0.0} ({peerCpuMed / oursCpuMed:0.00}x); checksums {oursChecksum:0.00} / {peerChecksum:0.00}");
            }
            var result = new JsonObject
            {
                ["benchmark"] = Name,
                ["description"] = "DICOM rows, per image: read file, decode, Modality LUT + first LINEAR window (PS3.3 C.11.2.1.2), zoom-in crop 3.5x the first box with zero padding, resize to 512x512 (area down / bilinear up). " +
                                  "PNG/JPEG rows: the same images as 16-bit PNG (stored values) and 8-bit JPEG quality 95 (display rendering), decoded to samples: ours PngCodec/JpegCodec (ImageSharp 2.1.13), peer PIL " + PilVersion() + " (Image.open + numpy.asarray); checksum = sum of the images' mean sample values. " +
                                  "Ours: DicomImage.Read (managed decode of native and RLE pixel data) + DicomRenderer.Render + ZoomInCrop.Extract, single-threaded. " +
                                  "Peer: pydicom " + PeerVersion() + " + numpy + PIL in one Python process (Debian /usr/bin/python3), same files. Median of the timed passes after one warm-up pass each; wall time and process CPU time (user+sys) are both reported, CPU time being the fairer measure on this heavily shared machine (load average in each row). Checksums: sum of crop means (should agree closely).",
                ["command"] = "dotnet run -c Release --project bench/Pipeline.Bench -- imaging --count " + count + " --passes " + passes,
                ["date"] = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
                ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["note"] = "shared 2-core machine; other builds may have run at the same time" },
                ["target"] = ">= 3x (DICOM rows; the PNG/JPEG rows are for information)",
                ["results"] = rows,
            };
            var root = Environment.GetEnvironmentVariable("PIPELINE_REPO_ROOT") ?? Directory.GetCurrentDirectory();
            var outPath = Path.Combine(root, "bench", "results", "imaging.json");
            Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
            await File.WriteAllTextAsync(outPath, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {outPath}");
            return 0;
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    /// <summary>Where our time goes, per stage (diagnostics: --stages).</summary>
    private static void Stages(List<(string Path, double[] Box)> files)
    {
        // The fastest of 10 repetitions of each stage on one file: filters out preemption on a shared machine.
        var best = Enumerable.Repeat(double.MaxValue, 4).ToArray();
        var dest = new float[512 * 512];
        var (path, box) = files[0];
        for (int p = 0; p < 40; p++)
        {
            var sw = Stopwatch.StartNew();
            var bytes = File.ReadAllBytes(path); best[0] = Math.Min(best[0], sw.Elapsed.TotalMilliseconds); sw.Restart();
            using var image = DicomImage.Read(bytes, path); best[1] = Math.Min(best[1], sw.Elapsed.TotalMilliseconds); sw.Restart();
            using var display = DicomRenderer.Render(image); best[2] = Math.Min(best[2], sw.Elapsed.TotalMilliseconds); sw.Restart();
            var crop = ZoomInCrop.Plan(display.Width, display.Height, new BoxF(box[0], box[1], box[2], box[3]), 3.5, 512);
            crop.Extract(display.Pixels<float>(), display.Width, display.Height, dest); best[3] = Math.Min(best[3], sw.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"best of 40, one image: read {best[0]:0.00} ms, parse+decode {best[1]:0.00} ms, render {best[2]:0.00} ms, zoom-in crop {best[3]:0.00} ms");
    }

    private static (List<double> Seconds, List<double> Cpu, double Checksum) TimeOurs(List<(string Path, double[]? Box)> files, int passes)
    {
        var times = new List<double>();
        var cpu = new List<double>();
        double checksum = 0;
        var dest = new float[512 * 512];
        for (int p = 0; p <= passes; p++)
        {
            var sw = Stopwatch.StartNew();
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            double s = 0;
            foreach (var (path, box) in files)
            {
                if (box is null)
                {
                    var bytes = File.ReadAllBytes(path);
                    using var raster = path.EndsWith(".png", StringComparison.Ordinal) ? PngCodec.Decode(bytes, path) : JpegCodec.Decode(bytes, path);
                    s += Mean(raster);
                    continue;
                }
                using var image = DicomImage.Open(path);
                using var display = DicomRenderer.Render(image);
                var crop = ZoomInCrop.Plan(display.Width, display.Height, new BoxF(box[0], box[1], box[2], box[3]), 3.5, 512);
                crop.Extract(display.Pixels<float>(), display.Width, display.Height, dest);
                double sum = 0;
                foreach (var v in dest) sum += v;
                s += sum / dest.Length;
            }
            sw.Stop();
            var cpuUsed = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            if (p > 0) { times.Add(sw.Elapsed.TotalSeconds); cpu.Add(cpuUsed); }
            checksum = s;
        }
        return (times, cpu, checksum);
    }

    private static double Mean(ImageBuffer raster)
    {
        double sum = 0;
        if (raster.PixelType == PixelType.UInt16) foreach (var v in raster.Pixels<ushort>()) sum += v;
        else foreach (var v in raster.Pixels<byte>()) sum += v;
        return sum / raster.Length;
    }

    private static async Task<(List<double> Seconds, List<double> Cpu, double Checksum)> TimePeerAsync(List<(string Path, double[]? Box)> files, int passes, string dir)
    {
        var script = Path.Combine(dir, "peer.py");
        var manifest = Path.Combine(dir, "manifest.json");
        await File.WriteAllTextAsync(script, Peer);
        await File.WriteAllTextAsync(manifest, JsonSerializer.Serialize(files.Select(f => new { path = f.Path, box = f.Box })));
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, manifest, passes.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var times = new List<double>();
        var cpu = new List<double>();
        double checksum = 0;
        string? line;
        while ((line = await p.StandardOutput.ReadLineAsync()) != null)
        {
            var o = JsonNode.Parse(line)!;
            times.Add((double)o["seconds"]!);
            cpu.Add((double)o["cpu"]!);
            checksum = (double)o["checksum"]!;
        }
        var err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) Console.Error.WriteLine("python peer failed: " + err);
        return (times, cpu, checksum);
    }

    private static bool RunTool(string tool, string src, string dst)
    {
        var psi = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(src); psi.ArgumentList.Add(dst);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    private static string PeerVersion()
    {
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/python3", "-c \"import pydicom, numpy; print(pydicom.__version__, numpy.__version__)\"") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var v = p.StandardOutput.ReadToEnd().Trim().Split(' ');
            p.WaitForExit();
            return $"{v[0]} (numpy {v[1]})";
        }
        catch (Exception) { return "(unknown version)"; }
    }

    private static string PilVersion()
    {
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/python3", "-c \"import PIL; print(PIL.__version__)\"") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var v = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return v;
        }
        catch (Exception) { return "(unknown version)"; }
    }

    private static double LoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (Exception) { return double.NaN; }
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count == 0 ? double.NaN : s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
