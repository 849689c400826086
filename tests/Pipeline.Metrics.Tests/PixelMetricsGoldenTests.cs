using Pipeline.Metrics.Pixel;
using static Pipeline.Metrics.Tests.GoldenData;

namespace Pipeline.Metrics.Tests;

public class PixelMetricsGoldenTests
{
    public static TheoryData<string> SsimCases => new() { "gray_unit", "rgb_255", "gray_small" };
    public static TheoryData<string> MsSsimCases => new() { "gray_255", "rgb_unit" };

    private static (float[] A, float[] B, byte[] Mask, PlaneShape Shape, double Range) Load(string section, string prefix, string name)
    {
        var c = Case(section, name);
        var shape = new PlaneShape(c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32(), c.GetProperty("channels").GetInt32());
        return (F32($"{prefix}_{name}_a.f32"), F32($"{prefix}_{name}_b.f32"), U8($"{prefix}_{name}_mask.u8"), shape, c.GetProperty("data_range").GetDouble());
    }

    private static void AssertRegions(System.Text.Json.JsonElement expected, RegionScores actual, double tol, string what)
    {
        AssertRelative(expected.GetProperty("whole").GetDouble(), actual.Whole, tol, what + " whole");
        Assert.NotNull(actual.Inside);
        Assert.NotNull(actual.Outside);
        AssertRelative(expected.GetProperty("inside").GetDouble(), actual.Inside!.Value, tol, what + " inside");
        AssertRelative(expected.GetProperty("outside").GetDouble(), actual.Outside!.Value, tol, what + " outside");
    }

    [Theory, MemberData(nameof(SsimCases))]
    public void Ssim_with_skimage_border_matches_scikit_image_to_1e6(string name)
    {
        var (a, b, mask, shape, range) = Load("ssim", "ssim", name);
        var got = StructuralSimilarity.Compute(a, b, shape, new SsimOptions(range), mask);
        AssertRegions(Case("ssim", name).GetProperty("ssim_skimage"), got, 1e-12, $"SSIM {name}");
    }

    [Theory, MemberData(nameof(SsimCases))]
    public void Ssim_with_torchmetrics_border_matches_the_torch_reference(string name)
    {
        var (a, b, mask, shape, range) = Load("ssim", "ssim", name);
        var got = StructuralSimilarity.Compute(a, b, shape, new SsimOptions(range) { Border = SsimBorder.Torchmetrics }, mask);
        AssertRegions(Case("ssim", name).GetProperty("ssim_torchmetrics"), got, 1e-12, $"SSIM(torchmetrics) {name}");
    }

    [Theory, MemberData(nameof(SsimCases))]
    public void Psnr_mse_mae_match_scikit_image_and_numpy(string name)
    {
        var (a, b, mask, shape, range) = Load("ssim", "ssim", name);
        var got = PixelError.Compute(a, b, shape, range, mask);
        var c = Case("ssim", name);
        AssertRegions(c.GetProperty("psnr"), got.Psnr, 1e-9, $"PSNR {name}");
        AssertRegions(c.GetProperty("mse"), got.Mse, 1e-9, $"MSE {name}");
        AssertRegions(c.GetProperty("mae"), got.Mae, 1e-9, $"MAE {name}");
    }

    [Theory, MemberData(nameof(MsSsimCases))]
    public void MsSsim_matches_the_torch_reference_for_both_borders(string name)
    {
        var (a, b, mask, shape, range) = Load("msssim", "msssim", name);
        var c = Case("msssim", name);
        AssertRegions(c.GetProperty("msssim_skimage"), MultiScaleStructuralSimilarity.Compute(a, b, shape, new SsimOptions(range), mask), 1e-12, $"MS-SSIM {name}");
        AssertRegions(c.GetProperty("msssim_torchmetrics"),
            MultiScaleStructuralSimilarity.Compute(a, b, shape, new SsimOptions(range) { Border = SsimBorder.Torchmetrics }, mask), 1e-12, $"MS-SSIM(torchmetrics) {name}");
    }

    [Fact]
    public void Psnr_matches_the_torchmetrics_docstring_example()
    {
        var e = Root.GetProperty("psnr_docstring");
        double got = PixelError.Psnr([0, 1, 2, 3], [3, 2, 1, 0], 3.0);
        AssertRelative(e.GetProperty("psnr").GetDouble(), got, 1e-12, "PSNR docstring");
        Assert.Equal(2.5527, got, 4);
    }
}
