using Pipeline.Core.Contracts;
using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Mammography;
using Pipeline.Metrics.Report;

namespace Pipeline.Mammography.Tests;

/// <summary>The copy&amp;paste baseline (the reference pasted with the run's compositing) and what Measure reports for it.</summary>
public class CopyPasteBaselineTests
{
    private static float[] Texture(int w, int h, int seed, float level)
    {
        var rng = new Random(seed);
        var img = new float[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                img[y * w + x] = level + 0.05f * MathF.Sin(x * 0.3f + seed) * MathF.Cos(y * 0.2f) + 0.01f * (float)rng.NextDouble();
        return img;
    }

    [Fact]
    public void The_reference_box_lands_in_the_target_box_with_the_feathered_margin()
    {
        int w = 80, h = 70;
        var target = Texture(w, h, 1, 0.3f);
        var reference = Texture(w, h, 2, 0.7f);
        var targetBox = new BoxF(20, 25, 36, 41);
        var referenceBox = new BoxF(40, 10, 56, 26);
        var (composite, alpha) = CopyPasteBaseline.Composite(target, w, h, targetBox, reference, w, h, referenceBox);
        for (int y = 25; y < 41; y++)
            for (int x = 20; x < 36; x++)
            {
                Assert.Equal(1f, alpha[y * w + x]);
                Assert.Equal(reference[(y - 15) * w + x + 20], composite[y * w + x], 5);
            }
        var feather = PasteBack.FeatherAlpha(new PixelRect(20, 25, 16, 16), 5, 2.0);
        Assert.Equal(feather[10 * 26 + 2], alpha[30 * w + 17], 6);                 // 3 px left of the box
        Assert.Equal(target[30 * w + 17] + feather[10 * 26 + 2] * (reference[15 * w + 37] - target[30 * w + 17]), composite[30 * w + 17], 5);
        for (int i = 0; i < w * h; i++)
        {
            int x = i % w, y = i / w;
            if (x < 15 || x >= 41 || y < 20 || y >= 46) { Assert.Equal(target[i], composite[i]); Assert.Equal(0f, alpha[i]); }
        }
    }

    [Theory]
    [InlineData(0, 0, 80, 70)]      // the whole image
    [InlineData(10, 18, 30, 31)]    // cuts through the box and its margin
    [InlineData(0, 40, 17, 30)]     // touches the image's edges
    public void A_window_of_the_composite_is_the_whole_composite_there(int left, int top, int width, int height)
    {
        int w = 80, h = 70;
        var target = Texture(w, h, 3, 0.3f);
        var reference = Texture(w, h, 4, 0.7f);
        var targetBox = new BoxF(20.5, 25.25, 36, 41.75);
        var referenceBox = new BoxF(40, 10, 58.5, 27);
        var (composite, alpha) = CopyPasteBaseline.Composite(target, w, h, targetBox, reference, w, h, referenceBox);
        var window = new PixelRect(left, top, width, height);
        var (windowComposite, windowAlpha) = CopyPasteBaseline.Composite(target, w, h, targetBox, reference, w, h, referenceBox, window);
        Assert.Equal(width * height, windowComposite.Length);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                Assert.Equal(composite[(top + y) * w + left + x], windowComposite[y * width + x]);
                Assert.Equal(alpha[(top + y) * w + left + x], windowAlpha[y * width + x]);
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => CopyPasteBaseline.Composite(target, w, h, targetBox, reference, w, h, referenceBox, new PixelRect(70, 0, 20, 10)));
    }

    [Fact]
    public void A_smaller_reference_box_is_scaled_onto_the_target_box()
    {
        int w = 60, h = 60;
        var target = new float[w * h];
        var reference = new float[w * h];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) reference[y * w + x] = x / 100f;   // a horizontal ramp
        var (composite, _) = CopyPasteBaseline.Composite(target, w, h, new BoxF(10, 10, 30, 30), reference, w, h, new BoxF(20, 20, 30, 30));
        // target x = 10.5 .. 29.5 maps to reference x = 20.25 .. 29.75 (scale 1/2): a ramp of half the slope
        Assert.Equal((20.25 - 0.5) / 100, composite[20 * w + 10], 4);
        Assert.Equal((29.75 - 0.5) / 100, composite[20 * w + 29], 4);
    }

    [Fact]
    public void The_composited_patch_stays_in_the_unit_range_when_the_alpha_rounds_above_one()
    {
        int r = 16;
        var original = Enumerable.Repeat(0.5f, r * r).ToArray();
        var mask = new float[r * r];
        var alpha = Enumerable.Repeat(1.0000002f, r * r).ToArray();   // 1 + 2 ulp: 0.5 + alpha * 0.5 rounds to 1.0000001
        Assert.True(0.5f + alpha[0] * 0.5f > 1f);
        static float[] Model(float[] d) { var m = new float[d.Length]; ModelSpace.FromDisplay(d, m); return m; }
        var prepared = new TensorBundle().Add(ModelTensorNames.Original, Model(original)).Add(ModelTensorNames.Mask, mask)
            .Add(ModelTensorNames.CompositeAlpha, alpha).Add(ModelTensorNames.CopyPaste, Model(original))
            .Add(ModelTensorNames.Reference, Model(original)).Add(ModelTensorNames.RealObject, Model(original));
        var generated = new TensorBundle().Add(ModelTensorNames.Sample, Enumerable.Repeat(1f, r * r).ToArray());
        var item = new WorkItem
        {
            ItemId = "i1", Mode = TaskMode.Insertion, TargetImage = "t", ReferenceImage = "r", ReferenceBox = new BoundingBox(0, 0, 1, 1),
            TargetBox = new BoundingBox(0, 0, 1, 1), ClassName = "Mass", Seed = 1,
        };
        var measured = new MammographyMeasurer().Measure(item, prepared, generated, new CropGeometry(0, 0, 200, r, 4, 4, 8, 8, 3.3));
        Assert.All(measured.Generated, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(1f, measured.Generated[0]);
    }

    [Fact]
    public void Measure_reports_the_seam_of_the_result_the_untouched_tissue_and_copy_paste()
    {
        int r = 64;
        var original = Texture(r, r, 3, 0.4f);
        var pasted = (float[])original.Clone();
        for (int y = 22; y < 42; y++) for (int x = 22; x < 42; x++) pasted[y * r + x] += 0.15f;     // a pasted square
        var mask = new float[r * r];
        var alpha = new float[r * r];
        for (int y = 22; y < 42; y++) for (int x = 22; x < 42; x++) mask[y * r + x] = alpha[y * r + x] = 1;
        static float[] Model(float[] d) { var m = new float[d.Length]; ModelSpace.FromDisplay(d, m); return m; }
        var prepared = new TensorBundle().Add(ModelTensorNames.Original, Model(original)).Add(ModelTensorNames.Mask, mask)
            .Add(ModelTensorNames.CompositeAlpha, alpha).Add(ModelTensorNames.CopyPaste, Model(pasted))
            .Add(ModelTensorNames.Reference, Model(original)).Add(ModelTensorNames.RealObject, Model(original));
        // a model that blends: its sample equals the original
        var generated = new TensorBundle().Add(ModelTensorNames.Sample, Model(original));
        var item = new WorkItem
        {
            ItemId = "i1", Mode = TaskMode.Insertion, TargetImage = "t", ReferenceImage = "r", ReferenceBox = new BoundingBox(0, 0, 1, 1),
            TargetBox = new BoundingBox(0, 0, 1, 1), ClassName = "Mass", Seed = 1,
        };
        var measured = new MammographyMeasurer().Measure(item, prepared, generated, new CropGeometry(0, 0, 200, r, 22, 22, 20, 20, 3.3));
        var m = measured.Metrics;
        Assert.DoesNotContain("psnr", m.Keys);   // the sample equals the original: infinite PSNR, left out
        Assert.Equal(m["untouched/seam"], m["seam"], 5);
        Assert.True(m["copy&paste/seam"] > 3 * m["seam"], $"copy&paste {m["copy&paste/seam"]} vs model {m["seam"]}");
        Assert.True(m["copy&paste/ssim.inside"] < m["ssim.inside"]);
        Assert.Equal((ComparisonMethod.CopyPaste, "seam"), ComparisonMethod.ParseKey("copy&paste/seam"));
        Assert.Equal((ComparisonMethod.Model, "LPIPS[x]"), ComparisonMethod.ParseKey("LPIPS[x]"));
        Assert.NotNull(measured.CopyPaste);
        Assert.NotNull(measured.RealObject);
        // reinsertion: the baseline pastes the lesion onto itself (identical patches): every value stays finite
        prepared.Add(ModelTensorNames.CopyPaste, Model(original));
        var same = new MammographyMeasurer().Measure(item, prepared, generated, new CropGeometry(0, 0, 200, r, 22, 22, 20, 20, 3.3)).Metrics;
        Assert.All(same, p => Assert.True(double.IsFinite(p.Value), $"{p.Key} = {p.Value}"));
        Assert.DoesNotContain("copy&paste/psnr", same.Keys);
    }
}
