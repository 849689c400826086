using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pipeline.Metrics.Pixel;

/// <summary>
/// SSIM (Wang et al. 2004, eq. 13 with the Gaussian-weighted local statistics of section III-C):
/// SSIM(x, y) = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2)),
/// C1 = (K1 L)^2, C2 = (K2 L)^2, with population (not sample) variances, as scikit-image's
/// <c>use_sample_covariance=False</c>. Computed in float64 per channel; the score is the mean over channels and the
/// pixels of the region (see <see cref="SsimBorder"/> for which pixels count).
/// </summary>
public static class StructuralSimilarity
{
    /// <summary>
    /// The register width of the SSIM and MS-SSIM kernels: 512-bit where the hardware accelerates it, otherwise
    /// 256-bit. Both give the same values to rounding; set it only to compare them.
    /// </summary>
    public static LaneWidth Lanes { get; set; } = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? LaneWidth.Bits512 : LaneWidth.Bits256;

    /// <summary>SSIM on the whole image and, when <paramref name="mask"/> is given, inside and outside it.</summary>
    public static RegionScores Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, PlaneShape shape, SsimOptions options, ReadOnlySpan<byte> mask = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        shape.Validate(a.Length, b.Length, mask.Length, "SSIM");
        PlaneShape.CheckFinite(a, "SSIM", "first");
        PlaneShape.CheckFinite(b, "SSIM", "second");
        CheckSize(shape.Width, shape.Height, options, "SSIM");
        int n = shape.PixelCount, width = shape.Width, height = shape.Height, border = ExcludedBorder(options);
        var pool = ArrayPool<double>.Shared;
        double[] x = pool.Rent(n), y = pool.Rent(n), line = pool.Rent(width);
        try
        {
            var sums = new RegionSums();
            for (int c = 0; c < shape.Channels; c++)
            {
                ExtractPlane(a, shape.Channels, c, x.AsSpan(0, n));
                ExtractPlane(b, shape.Channels, c, y.AsSpan(0, n));
                var kernel = new SsimKernel(x.AsSpan(0, n), y.AsSpan(0, n), width, height, options);
                try
                {
                    for (int row = border; row < height - border; row++)
                    {
                        kernel.Row(row, line.AsSpan(0, width), default);
                        sums.AddRow(line.AsSpan(0, width), row, width, border, mask);
                    }
                }
                finally
                {
                    kernel.Dispose();
                }
            }
            return sums.ToScores(mask.Length > 0);
        }
        finally
        {
            pool.Return(x); pool.Return(y); pool.Return(line);
        }
    }

    /// <summary>Pixels of the map's border left out of every mean: 5 for scikit-image's border handling, 0 for torchmetrics'.</summary>
    public static int ExcludedBorder(SsimOptions options) =>
        options.Border == SsimBorder.ScikitImage ? GaussianWindow.Radius(options.Sigma) : 0;

    internal static void CheckSize(int width, int height, SsimOptions options, string metric)
    {
        int win = 2 * GaussianWindow.Radius(options.Sigma) + 1;
        if (width < win || height < win)
            throw new ArgumentException($"{metric}: the image ({width}x{height}) is smaller than the {win}x{win} SSIM window; use images of at least {win}x{win} pixels");
    }

    /// <summary>Copies channel <paramref name="channel"/> of interleaved samples into a float64 plane.</summary>
    public static void ExtractPlane(ReadOnlySpan<float> interleaved, int channels, int channel, Span<double> plane)
    {
        if (channels == 1)
        {
            System.Numerics.Tensors.TensorPrimitives.ConvertChecked<float, double>(interleaved, plane);
            return;
        }
        for (int i = 0, j = channel; i < plane.Length; i++, j += channels) plane[i] = interleaved[j];
    }

    /// <summary>
    /// The SSIM map (and, when <paramref name="csMap"/> is not empty, the contrast-structure map
    /// (2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2) used by MS-SSIM) of two float64 planes, every pixel, with the
    /// border padding of <see cref="SsimOptions.Border"/> (<see cref="SsimKernel"/> row by row).
    /// </summary>
    public static void ComputeMaps(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int width, int height, SsimOptions options, Span<double> ssimMap, Span<double> csMap)
    {
        int n = width * height;
        if (x.Length != n || y.Length != n || ssimMap.Length != n || (csMap.Length != 0 && csMap.Length != n))
            throw new ArgumentException($"SSIM maps: every plane must hold {width}x{height} = {n} samples");
        CheckSize(width, height, options, "SSIM");
        var kernel = new SsimKernel(x, y, width, height, options);
        try
        {
            for (int row = 0; row < height; row++)
                kernel.Row(row, ssimMap.Slice(row * width, width), csMap.Length == 0 ? default : csMap.Slice(row * width, width));
        }
        finally
        {
            kernel.Dispose();
        }
    }
}

/// <summary>Running sums of a per-pixel map over the whole image and inside / outside a mask, border excluded.</summary>
internal struct RegionSums
{
    private double _whole, _inside, _outside;
    private long _nWhole, _nInside, _nOutside;

    /// <summary>Adds map row <paramref name="row"/> (the whole row, <paramref name="width"/> values) without its <paramref name="border"/> columns.</summary>
    public void AddRow(ReadOnlySpan<double> line, int row, int width, int border, ReadOnlySpan<byte> mask)
    {
        int w = width - 2 * border;
        var values = line.Slice(border, w);
        double total = System.Numerics.Tensors.TensorPrimitives.Sum(values);
        _whole += total;
        _nWhole += w;
        if (mask.Length == 0) return;
        var m = mask.Slice(row * width + border, w);
        double inside = 0;
        int count = 0;
        for (int i = 0; i < w; i++)
        {
            if (m[i] != 0) { inside += values[i]; count++; }
        }
        _inside += inside;
        _nInside += count;
        _outside += total - inside;
        _nOutside += w - count;
    }

    public readonly RegionScores ToScores(bool masked) => new(
        _whole / _nWhole,
        masked && _nInside > 0 ? _inside / _nInside : null,
        masked && _nOutside > 0 ? _outside / _nOutside : null);
}
