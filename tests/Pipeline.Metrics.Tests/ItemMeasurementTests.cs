using Pipeline.Metrics.Distribution;
using Pipeline.Metrics.Features;
using Pipeline.Metrics.Pixel;
using Pipeline.Metrics.Report;

namespace Pipeline.Metrics.Tests;

public class ItemMeasurementTests
{
    private static string Models => Path.Combine(AppContext.BaseDirectory, "feature_models");

    private static FeatureImage Patch(int seed, double noise, int size = 48)
    {
        var rng = new Random(seed);
        var px = new float[size * size * 3];
        for (int i = 0; i < px.Length; i++) px[i] = (float)Math.Clamp(0.5 + 0.3 * Math.Sin(i * 0.01) + noise * (rng.NextDouble() - 0.5), 0, 1);
        return new FeatureImage(px, new PlaneShape(size, size, 3), $"patch{seed}");
    }

    [Fact]
    public void Measure_reports_named_metrics_per_region_and_says_what_it_skipped()
    {
        using var lp = FeatureNetwork.Open(Path.Combine(Models, "tiny-lpips"));
        var o = Patch(1, 0.1);
        var mask = new byte[48 * 48];
        for (int y = 10; y < 30; y++) for (int x = 12; x < 36; x++) mask[y * 48 + x] = 1;
        var m = ItemMeasurer.Measure(new ItemMeasurementInput { ItemId = "a", OriginalPatch = o, ResultPatch = Patch(2, 0.3), Mask = mask },
            new ItemMeasurementOptions { Lpips = lp });
        Assert.Contains(m.Metrics, v => v.Metric == "ssim" && v.Region == "inside" && v.Value is > 0 and < 1);
        Assert.Contains(m.Metrics, v => v.Metric == "LPIPS[tiny-lpips]" && v.Value > 0);
        Assert.DoesNotContain(m.Metrics, v => v.Metric.StartsWith("CLIP-I"));
        Assert.Contains(m.Skipped, s => s.Metric == "CLIP-I" && s.Reason.Contains("not substituted"));
        Assert.Null(m.OriginalFeatures);
        // identical patches: SSIM 1, LPIPS 0
        var same = ItemMeasurer.Measure(new ItemMeasurementInput { ItemId = "b", OriginalPatch = o, ResultPatch = o }, new ItemMeasurementOptions { Lpips = lp });
        Assert.Equal(1.0, same.Metrics.Single(v => v.Metric == "ssim").Value!.Value, 12);
        Assert.Equal(0.0, same.Metrics.Single(v => v.Metric == "LPIPS[tiny-lpips]").Value);
    }

    [Fact]
    public void Box_embedding_similarity_and_set_metrics_per_group()
    {
        using var emb = FeatureNetwork.Open(Path.Combine(Models, "tiny-embed"));
        using var feat = FeatureNetwork.Open(Path.Combine(Models, "tiny-feat"));
        var options = new ItemMeasurementOptions { Embedding = emb, SetFeatures = feat };
        var items = new List<SetMetricsCalculator.ItemFeatures>();
        for (int i = 0; i < 30; i++)
        {
            var m = ItemMeasurer.Measure(new ItemMeasurementInput
            {
                ItemId = $"i{i}", OriginalPatch = Patch(i, 0.2), ResultPatch = Patch(100 + i, 0.6),
                Reference = Patch(200 + i, 0.2, 20), Box = new PixelBox(8, 8, 24, 20),
            }, options);
            var v = m.Metrics.Single(x => x.Metric == "CLIP-I[tiny-embed]");
            Assert.Equal("box", v.Region);
            Assert.InRange(v.Value!.Value, -100, 100);
            items.Add(new($"i{i}", i % 2 == 0 ? "mass" : "calc", "insertion", m.OriginalFeatures!, m.ResultFeatures!));
        }
        var set = SetMetricsCalculator.Compute(feat.Descriptor, items, new KidOptions { SubsetSize = 10, SubsetCount = 5 });
        var fdRun = set.Single(s => s.Metric == "FD[tiny-feat]" && s.Scope == "run");
        Assert.True(fdRun.Value > 0);
        Assert.Equal(30, fdRun.SamplesA);
        Assert.Contains(set, s => s.Metric == "KID[tiny-feat]" && s.Scope == "class" && s.Group == "mass" && s.Std.HasValue);
        Assert.Contains(set, s => s.Scope == "task" && s.Group == "insertion");
        var tooFew = SetMetricsCalculator.Compute(feat.Descriptor, items.Take(5).ToList(), new KidOptions { SubsetSize = 10 });
        Assert.Contains(tooFew, s => s.Metric == "KID[tiny-feat]" && double.IsNaN(s.Value) && s.Warnings.Any(w => w.Contains("too few samples")));
    }

    [Fact]
    public void A_box_outside_the_patch_names_the_item()
    {
        var ex = Assert.Throws<ArgumentException>(() => ItemMeasurer.Crop(Patch(1, 0.1), new PixelBox(40, 40, 20, 20), "case-7"));
        Assert.Contains("case-7", ex.Message);
    }
}
