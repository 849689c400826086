using Pipeline.Metrics.Pixel;

namespace Pipeline.Metrics.Tests;

public class PixelMetricsBehaviourTests
{
    private static float[] Ramp(int w, int h, int c, int seed)
    {
        var rng = new Random(seed);
        var v = new float[w * h * c];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(0.5 + 0.3 * Math.Sin(i * 0.05) + 0.1 * rng.NextDouble());
        return v;
    }

    [Theory]
    [InlineData(SsimBorder.ScikitImage)]
    [InlineData(SsimBorder.Torchmetrics)]
    public void Identical_images_give_ssim_and_msssim_exactly_one(SsimBorder border)
    {
        var a = Ramp(180, 190, 2, 1);
        var shape = new PlaneShape(180, 190, 2);
        var o = new SsimOptions(1.0) { Border = border };
        Assert.Equal(1.0, StructuralSimilarity.Compute(a, a, shape, o).Whole, 12);
        Assert.Equal(1.0, MultiScaleStructuralSimilarity.Compute(a, a, shape, o).Whole, 12);
    }

    [Fact]
    public void Identical_images_give_mse_zero_and_infinite_psnr()
    {
        var a = Ramp(20, 20, 1, 2);
        var s = PixelError.Compute(a, a, new PlaneShape(20, 20), 1.0);
        Assert.Equal(0, s.Mse.Whole);
        Assert.True(double.IsPositiveInfinity(s.Psnr.Whole));
    }

    [Fact]
    public void Empty_mask_regions_have_no_value_instead_of_nan()
    {
        var a = Ramp(20, 20, 1, 3);
        var b = Ramp(20, 20, 1, 4);
        var empty = new byte[400];
        var r = StructuralSimilarity.Compute(a, b, new PlaneShape(20, 20), new SsimOptions(1.0), empty);
        Assert.Null(r.Inside);
        Assert.NotNull(r.Outside);
        Assert.Equal(r.Whole, r.Outside!.Value, 12);
        var e = PixelError.Compute(a, b, new PlaneShape(20, 20), 1.0, empty);
        Assert.Null(e.Psnr.Inside);
    }

    [Fact]
    public void Vectorised_ssim_map_equals_a_plain_reference_implementation()
    {
        // Width 23 exercises the scalar tail after the vector loop, 37 two 256-bit vectors and a 512-bit one.
        var lanes = StructuralSimilarity.Lanes;
        try
        {
            foreach (var width in new[] { LaneWidth.Bits256, LaneWidth.Bits512 })
            foreach (var (w, h) in new[] { (23, 17), (37, 12) })
            {
                if (width == LaneWidth.Bits512 && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) continue;
                StructuralSimilarity.Lanes = width;
                var x = Ramp(w, h, 1, 5).Select(v => (double)v).ToArray();
                var y = Ramp(w, h, 1, 6).Select(v => (double)v).ToArray();
                foreach (var border in new[] { SsimBorder.ScikitImage, SsimBorder.Torchmetrics })
                {
                    var o = new SsimOptions(1.0) { Border = border };
                    var map = new double[w * h];
                    StructuralSimilarity.ComputeMaps(x, y, w, h, o, map, default);
                    var reference = PlainSsimMap(x, y, w, h, o);
                    for (int i = 0; i < map.Length; i++) Assert.Equal(reference[i], map[i], 10);
                }
            }
        }
        finally
        {
            StructuralSimilarity.Lanes = lanes;
        }
    }

    /// <summary>Direct 2-D windowed sums, no separability, no vectors: the definition written out.</summary>
    private static double[] PlainSsimMap(double[] x, double[] y, int w, int h, SsimOptions o)
    {
        var g = GaussianWindow.Weights(o.Sigma);
        int r = g.Length / 2;
        bool sym = o.Border == SsimBorder.ScikitImage;
        int Idx(int i, int n) => i < 0 ? (sym ? -i - 1 : -i) : i >= n ? (sym ? 2 * n - i - 1 : 2 * n - i - 2) : i;
        double c1 = Math.Pow(o.K1 * o.DataRange, 2), c2 = Math.Pow(o.K2 * o.DataRange, 2);
        var map = new double[w * h];
        for (int row = 0; row < h; row++)
        for (int col = 0; col < w; col++)
        {
            double mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
            for (int dy = -r; dy <= r; dy++)
            for (int dx = -r; dx <= r; dx++)
            {
                double wt = g[dy + r] * g[dx + r];
                int p = Idx(row + dy, h) * w + Idx(col + dx, w);
                mx += wt * x[p]; my += wt * y[p]; mxx += wt * x[p] * x[p]; myy += wt * y[p] * y[p]; mxy += wt * x[p] * y[p];
            }
            double vx = mxx - mx * mx, vy = myy - my * my, vxy = mxy - mx * my;
            map[row * w + col] = (2 * mx * my + c1) * (2 * vxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        }
        return map;
    }

    [Fact]
    public void Bad_inputs_throw_clear_errors()
    {
        var a = new float[100];
        var ex = Assert.Throws<ArgumentException>(() => StructuralSimilarity.Compute(a, new float[99], new PlaneShape(10, 10), new SsimOptions(1)));
        Assert.Contains("100 samples", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => StructuralSimilarity.Compute(a, a, new PlaneShape(10, 10), new SsimOptions(1)));
        Assert.Contains("smaller than the 11x11", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => MultiScaleStructuralSimilarity.Compute(new float[160 * 160], new float[160 * 160], new PlaneShape(160, 160), new SsimOptions(1)));
        Assert.Contains("at least 176", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SsimOptions(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PixelError.Compute(a, a, new PlaneShape(10, 10), double.NaN));
        ex = Assert.Throws<ArgumentException>(() => PixelError.Compute(a, a, new PlaneShape(10, 10), 1, new byte[3]));
        Assert.Contains("one byte per pixel", ex.Message);
        var nan = new float[400]; nan[123] = float.NaN;
        ex = Assert.Throws<ArgumentException>(() => StructuralSimilarity.Compute(new float[400], nan, new PlaneShape(20, 20), new SsimOptions(1)));
        Assert.Contains("second image holds NaN at sample 123", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => PixelError.Compute(nan, new float[400], new PlaneShape(20, 20), 1));
        Assert.Contains("first image", ex.Message);
    }
}
