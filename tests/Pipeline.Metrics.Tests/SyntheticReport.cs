using Pipeline.Metrics.Pixel;
using Pipeline.Metrics.Report;

namespace Pipeline.Metrics.Tests;

/// <summary>A synthetic run: phantom crops with a bright "lesion", a perturbed result, real SSIM/PSNR computed on them.</summary>
internal static class SyntheticReport
{
    private static readonly string SeamVersion = MetricDefinitions.SeamVersion(SeamOptions.Default);

    public static RunReportModel Build(int items = 12, int failed = 2)
    {
        var rng = new Random(42);
        const int s = 64;
        var ssimOptions = new SsimOptions(255);
        var list = new List<ItemReport>();
        string[] classes = ["mass", "calcification"];
        string[] tasks = ["insertion", "replacement", "reinsertion"];
        for (int i = 0; i < items; i++)
        {
            string id = $"case-{i:D3}";
            if (i >= items - failed)
            {
                list.Add(new ItemReport { ItemId = id, Class = classes[i % 2], Task = tasks[i % 3], Succeeded = false,
                    Error = i % 2 == 0 ? "preprocess: DICOM has no pixel data (0x7FE0,0x0010)" : "infer: model output contained NaN at step 14" });
                continue;
            }
            var original = new float[s * s];
            var result = new float[s * s];
            var mask = new byte[s * s];
            double cx = 20 + rng.Next(24), cy = 20 + rng.Next(24), r = 6 + rng.Next(8), strength = 0.1 + 0.5 * rng.NextDouble();
            for (int y = 0; y < s; y++)
            for (int x = 0; x < s; x++)
            {
                double tissue = 90 + 50 * Math.Sin(x * 0.17 + i) * Math.Cos(y * 0.11) + 15 * rng.NextDouble();
                double d2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (r * r);
                original[y * s + x] = (float)Math.Clamp(tissue + (d2 < 1 ? 70 * (1 - d2) : 0), 0, 255);
                result[y * s + x] = (float)Math.Clamp(original[y * s + x] + (d2 < 1.4 ? strength * 60 * (rng.NextDouble() - 0.3) : 2 * (rng.NextDouble() - 0.5)), 0, 255);
                mask[y * s + x] = (byte)(d2 < 1.4 ? 1 : 0);
            }
            var shape = new PlaneShape(s, s);
            var ssim = StructuralSimilarity.Compute(original, result, shape, ssimOptions, mask);
            var err = PixelError.Compute(original, result, shape, 255, mask);
            var metrics = new List<MetricValue>
            {
                new("ssim", "whole", ssim.Whole, ssimOptions.DefinitionVersion),
                new("ssim", "inside", ssim.Inside, ssimOptions.DefinitionVersion),
                new("psnr", "whole", err.Psnr.Whole, MetricDefinitions.PsnrVersion(255)),
                new("psnr", "inside", err.Psnr.Inside, MetricDefinitions.PsnrVersion(255)),
                new("LPIPS[tiny-lpips]", "patch", 0.05 + 0.2 * strength + 0.02 * rng.NextDouble(), "lpips/1 tiny-lpips sha256:synthetic"),
                // the copy&paste baseline and the untouched original at the same box, measured the same way
                new("seam", "box", 0.3 + 0.2 * rng.NextDouble(), SeamVersion),
                new("seam", "box", 1.5 + rng.NextDouble(), SeamVersion, ComparisonMethod.CopyPaste),
                new("seam", "box", 0.25 + 0.2 * rng.NextDouble(), SeamVersion, ComparisonMethod.Untouched),
                new("LPIPS[tiny-lpips]", "patch", 0.3 + 0.1 * rng.NextDouble(), "lpips/1 tiny-lpips sha256:synthetic", ComparisonMethod.CopyPaste),
            };
            byte[] Png(Func<int, double> f) => TestPng.Encode(s, s, 1, Enumerable.Range(0, s * s).Select(p => (byte)Math.Clamp(f(p), 0, 255)).ToArray());
            list.Add(new ItemReport
            {
                ItemId = id, Class = classes[i % 2], Task = tasks[i % 3], Metrics = metrics,
                Lineage = new Dictionary<string, string> { ["source"] = $"datasets/phantoms/{id}.dcm", ["reference"] = $"datasets/phantoms/ref-{i % 4}.dcm", ["seed"] = (1000 + i).ToString() },
                Thumbnails =
                [
                    new("original crop", "image/png", Png(p => original[p])),
                    new("masked context", "image/png", Png(p => mask[p] != 0 ? 128 : original[p])),
                    new("reference", "image/png", Png(p => original[(p + 7 * s) % (s * s)])),
                    new("result", "image/png", Png(p => result[p])),
                    new("difference", "image/png", Png(p => 128 + 4 * (result[p] - original[p]))),
                ],
            });
        }
        var ssimDef = MetricDefinitions.Ssim(ssimOptions);
        return new RunReportModel
        {
            RunId = "run-20261122-synthetic",
            Title = "Synthetic phantom run (report test)",
            State = failed > 0 ? "CompletedWithFailures" : "Completed",
            CreatedAt = new DateTimeOffset(2026, 11, 22, 6, 0, 0, TimeSpan.Zero),
            CompletedAt = new DateTimeOffset(2026, 11, 22, 6, 14, 0, TimeSpan.Zero),
            Settings = new Dictionary<string, string> { ["model"] = "models/mammo-tiny", ["sampler"] = "DDIM, 25 steps, eta 0", ["guidance"] = "5.0", ["seed"] = "1234", ["dataset"] = "datasets/phantoms" },
            Lineage = new Dictionary<string, string> { ["model sha256"] = "9f2c…e1", ["dataset index"] = "datasets/phantoms/_index.json", ["code"] = "pipeline 0.1.0" },
            Definitions =
            [
                ssimDef, MetricDefinitions.Psnr(255), MetricDefinitions.Seam(SeamOptions.Default),
                new("LPIPS[tiny-lpips]", "lpips/1 tiny-lpips sha256:synthetic", "LPIPS with a tiny random stand-in network (not LPIPS-alex)", false),
                new("FD[tiny-feat]", "fd/1 tiny-feat", "Fréchet distance of tiny stand-in features (not FID)", false),
                new("KID[tiny-feat]", "kid/1 poly3 subsets=100x8 seed=0 tiny-feat", "Kernel distance of tiny stand-in features (not KID-Inception)", false),
            ],
            Items = list,
            SetMetrics =
            [
                new("FD[tiny-feat]", "run", null, 3.217, null, "fd/1 tiny-feat", items - failed, items - failed,
                    ["the first set has 10 samples for 16 dimensions, so its covariance is singular; FD is biased and unstable at this size"]),
                new("KID[tiny-feat]", "run", null, 0.0123, 0.0041, "kid/1 poly3 subsets=100x8 seed=0 tiny-feat", items - failed, items - failed, []),
                new("FD[tiny-feat]", "task", "insertion", 2.5, null, "fd/1 tiny-feat", 12, 4, [], ComparisonMethod.Model, ComparisonMethod.AgainstRealLesions),
                new("FD[tiny-feat]", "task", "insertion", 7.25, null, "fd/1 tiny-feat", 12, 4, [], ComparisonMethod.CopyPaste, ComparisonMethod.AgainstRealLesions),
            ],
            Skipped = [new("CLIP-I", "no CLIP feature model configured (set metrics.clipModel); not substituted by another network")],
        };
    }
}
