using System.Runtime.InteropServices;
using System.Text.Json;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Metrics.Tests;

/// <summary>The seam measure against data/seam/make_seam_vectors.py (an independent numpy/scipy reference) and on the
/// constructed cases it exists for: a hard paste scores high, untouched tissue and a blended lesion low.</summary>
public class SeamMeasureTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "data", "seam");
    private static readonly Lazy<JsonElement> Vectors = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "seam.json"))).RootElement);

    public static TheoryData<string> Cases => new()
    {
        "untouched", "hard_paste_brighter", "hard_paste_darker", "blended_lesion", "pasted_lesion", "box_at_corner", "narrow_box", "flat_with_paste",
    };

    private static (float[] Image, SeamBox Box, JsonElement Expected) Load(string name)
    {
        var c = Vectors.Value.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var b = c.GetProperty("box").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var image = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Dir, name + ".f32"))).ToArray();
        return (image, new SeamBox(b[0], b[1], b[2], b[3]), c);
    }

    private static SeamResult Measure(string name)
    {
        var (image, box, _) = Load(name);
        return SeamMeasure.Compute(image, 64, 64, box) ?? throw new InvalidOperationException($"{name}: no segment measured");
    }

    [Fact]
    public void Default_options_are_the_ones_the_vectors_were_made_with()
    {
        var o = Vectors.Value.GetProperty("options");
        Assert.Equal(o.GetProperty("band").GetInt32(), SeamOptions.Default.BandWidth);
        Assert.Equal(o.GetProperty("corner").GetDouble(), SeamOptions.Default.CornerFraction);
        Assert.Equal(o.GetProperty("ring").GetInt32(), SeamOptions.Default.RingWidth);
        Assert.Equal(o.GetProperty("floor").GetDouble(), SeamOptions.Default.ContrastFloor);
        Assert.Equal("seam/1 band=2 corner=0.25 ring=6 floor=0.00392156862745098", MetricDefinitions.SeamVersion(SeamOptions.Default));
    }

    [Theory, MemberData(nameof(Cases))]
    public void Matches_the_numpy_reference(string name)
    {
        var (image, box, expected) = Load(name);
        var got = SeamMeasure.Compute(image, 64, 64, box);
        Assert.NotNull(got);
        Assert.Equal(expected.GetProperty("segments").GetInt32(), got!.Value.Segments);
        GoldenData.AssertRelative(expected.GetProperty("seam").GetDouble(), got.Value.Seam, 1e-12, $"{name} seam");
        GoldenData.AssertRelative(expected.GetProperty("step_rms").GetDouble(), got.Value.StepRms, 1e-12, $"{name} step");
        GoldenData.AssertRelative(expected.GetProperty("contrast").GetDouble(), got.Value.LocalContrast, 1e-12, $"{name} contrast");
    }

    [Fact]
    public void A_hard_paste_scores_high_and_untouched_tissue_low()
    {
        double untouched = Measure("untouched").Seam;
        Assert.True(untouched < 0.6, $"untouched tissue {untouched}");
        foreach (var paste in new[] { "hard_paste_brighter", "hard_paste_darker", "pasted_lesion" })
        {
            double s = Measure(paste).Seam;
            Assert.True(s > 1.5 && s > 4 * untouched, $"{paste}: {s} vs untouched {untouched}");
        }
    }

    [Fact]
    public void A_lesion_that_blends_stays_near_the_untouched_value()
    {
        double untouched = Measure("untouched").Seam, blended = Measure("blended_lesion").Seam;
        Assert.InRange(blended, untouched / 1.5, untouched * 1.5);
    }

    [Fact]
    public void A_constant_offset_inside_the_box_scores_offset_over_contrast()
    {
        // Tissue with a known standard deviation: a vertical sine (constant along each row) and a box whose content is
        // shifted by d. Top/bottom steps are d + the sine's change over the bands; with the sine's period equal to the
        // 2-px band pair the band means are equal and every step is exactly d.
        int n = 40;
        var img = new float[n * n];
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
                img[y * n + x] = (float)(0.5 + 0.1 * ((y & 1) == 0 ? 1 : -1));
        var box = new SeamBox(10, 10, 20, 20);
        for (int y = 10; y < 30; y++)
            for (int x = 10; x < 30; x++)
                img[y * n + x] += 0.05f;
        var r = SeamMeasure.Compute(img, n, n, box)!.Value;
        Assert.Equal(8, r.Segments);
        Assert.Equal(0.1, r.LocalContrast, 6);
        Assert.Equal(0.05, r.StepRms, 6);
        Assert.Equal(0.5, r.Seam, 5);
    }

    [Fact]
    public void Untouched_flat_image_is_zero_and_the_floor_keeps_a_paste_finite()
    {
        var img = Enumerable.Repeat(0.4f, 32 * 32).ToArray();
        var box = new SeamBox(8, 8, 16, 16);
        Assert.Equal(0, SeamMeasure.Compute(img, 32, 32, box)!.Value.Seam);
        for (int y = 8; y < 24; y++) for (int x = 8; x < 24; x++) img[y * 32 + x] = 0.5f;
        var r = SeamMeasure.Compute(img, 32, 32, box)!.Value;
        Assert.Equal(0, r.LocalContrast);
        Assert.Equal(0.1 * 255, r.Seam, 3);
    }

    [Fact]
    public void A_box_filling_the_image_has_no_segment()
    {
        Assert.Null(SeamMeasure.Compute(new float[16 * 16], 16, 16, new SeamBox(0, 0, 16, 16)));
    }

    [Fact]
    public void Bad_input_is_named()
    {
        var img = new float[16 * 16];
        Assert.Contains("inside the 16x16 image", Assert.Throws<ArgumentOutOfRangeException>(() => SeamMeasure.Compute(img, 16, 16, new SeamBox(10, 10, 8, 2))).Message);
        Assert.Contains("256 samples", Assert.Throws<ArgumentException>(() => SeamMeasure.Compute(img.AsSpan(1).ToArray(), 16, 16, new SeamBox(2, 2, 4, 4))).Message);
        img[5] = float.NaN;
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => SeamMeasure.Compute(img, 16, 16, new SeamBox(2, 2, 4, 4))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => SeamMeasure.Compute(new float[256], 16, 16, new SeamBox(2, 2, 4, 4), new SeamOptions(BandWidth: 0)));
    }
}
