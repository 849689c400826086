using System.Text.Json;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Imaging.Tests.Buffers;

namespace Pipeline.Imaging.Tests.Preprocessing;

public class ResampleTests
{
    public static IEnumerable<object[]> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Npy.DataPath("resize", "cases.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            yield return [c.GetProperty("mode").GetString()!, c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32(), c.GetProperty("channels").GetInt32(), c.GetProperty("file").GetString()!];
    }

    private static ResampleMode Parse(string mode) => mode switch
    {
        "area" => ResampleMode.Area,
        "area_coverage" => ResampleMode.AreaCoverage,
        "bilinear" => ResampleMode.Bilinear,
        "bicubic" => ResampleMode.Bicubic,
        "bilinear_aa" or "pil_bilinear" => ResampleMode.BilinearAntialias,
        "bicubic_aa" or "pil_bicubic" => ResampleMode.BicubicAntialias,
        _ => throw new ArgumentException(mode),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Resize_matches_the_PyTorch_or_PIL_reference(string mode, int width, int height, int channels, string file)
    {
        var input = Npy.Load("resize", channels == 1 ? "input.npy" : "input_rgb.npy");
        var expected = Npy.Load("resize", file).Floats();
        var actual = new float[width * height * channels];
        if (mode == "model_rule") Resample.ResizeByModelRule(input.Floats(), input.Shape[1], input.Shape[0], actual, width, height);
        else Resample.Resize(input.Floats(), input.Shape[1], input.Shape[0], channels, actual, width, height, Parse(mode));
        // float32 references computed with different summation orders: allow a few ulps of values up to ~4
        AssertClose(expected, actual, 2e-5f, $"{mode} {width}x{height}");
    }

    [Theory]
    [InlineData(ResampleMode.Bilinear)]
    [InlineData(ResampleMode.Area)]
    [InlineData(ResampleMode.AreaCoverage)]
    [InlineData(ResampleMode.BicubicAntialias)]
    public void ResizeWindow_equals_the_same_window_of_a_full_resize(ResampleMode mode)
    {
        var input = Npy.Load("resize", "input.npy");
        var full = new float[53 * 41];
        Resample.Resize(input.Floats(), 37, 29, 1, full, 53, 41, mode);
        var window = new PixelRect(7, 11, 20, 9);
        var part = new float[window.Width * window.Height];
        Resample.ResizeWindow(input.Floats(), 37, 29, 1, 53, 41, window, part, mode);
        for (int y = 0; y < window.Height; y++)
            for (int x = 0; x < window.Width; x++)
                Assert.Equal(full[(window.Top + y) * 53 + window.Left + x], part[y * window.Width + x]);
    }

    [Fact]
    public void ImageBuffer_overload_resizes_float_buffers_and_rejects_integer_ones()
    {
        using var src = ImageBuffer.FromSamples<float>(4, 2, 1, [1, 1, 3, 3, 1, 1, 3, 3]);
        using var dst = Resample.Resize(src, 2, 1, ResampleMode.Area);
        Assert.Equal([1f, 3f], dst.Pixels<float>().ToArray());
        using var bytes = ImageBuffer.Create(4, 4, 1, PixelType.UInt8);
        Assert.Throws<ArgumentException>(() => Resample.Resize(bytes, 2, 2, ResampleMode.Area));
    }

    [Fact]
    public void Shape_errors_are_reported_before_any_work()
    {
        var src = new float[12];
        Assert.Throws<ArgumentException>(() => Resample.Resize(src, 5, 3, 1, new float[4], 2, 2, ResampleMode.Bilinear));
        Assert.Throws<ArgumentException>(() => Resample.Resize(src, 4, 3, 1, new float[3], 2, 2, ResampleMode.Bilinear));
        Assert.Throws<ArgumentOutOfRangeException>(() => Resample.Resize(src, 4, 3, 1, new float[4], 0, 2, ResampleMode.Bilinear));
        Assert.Throws<ArgumentOutOfRangeException>(() => Resample.ResizeWindow(src, 4, 3, 1, 2, 2, new PixelRect(1, 1, 2, 2), new float[4], ResampleMode.Area));
    }

    [Theory]
    [InlineData(512, 512, ResampleMode.AreaCoverage)]
    [InlineData(1800, 512, ResampleMode.AreaCoverage)]
    [InlineData(300, 512, ResampleMode.Bilinear)]
    public void Model_rule_is_exact_area_for_downscale_and_bilinear_for_upscale(int src, int dst, ResampleMode expected) =>
        Assert.Equal(expected, Resample.ModelRule(src, dst));

    [Fact]
    public void Same_size_under_the_model_rule_is_an_exact_copy()
    {
        var input = Npy.Load("resize", "input.npy").Floats();
        var output = new float[input.Length];
        Resample.ResizeByModelRule(input, 37, 29, output, 37, 29);
        Assert.Equal(input, output);
    }

    [Fact]
    public void Indicator_profile_sums_the_weights_over_the_indicated_taps()
    {
        // 4 -> 2 coverage: output 0 averages inputs 0,1; indicator of [1, 3) gives 0.5 and 0.5
        Assert.Equal([0.5, 0.5], Resample.IndicatorProfile(4, 2, 1, 2, ResampleMode.AreaCoverage));
        // 3 -> 2 coverage: output 0 covers [0, 1.5): input 0 (1) and half of input 1 (0.5), normalised by 1.5
        var p = Resample.IndicatorProfile(3, 2, 0, 1, ResampleMode.AreaCoverage);
        Assert.Equal(2.0 / 3, p[0], 12);
        Assert.Equal(0, p[1], 12);
    }

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0; int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            float d = Math.Abs(expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        Assert.True(worst <= tolerance, $"{what}: max |diff| {worst} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)})");
    }
}
