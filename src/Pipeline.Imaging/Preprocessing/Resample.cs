using System.Buffers;
using System.Numerics.Tensors;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// Resampling modes. Each is defined as, and tested against, one reference implementation
/// (tests/Pipeline.Imaging.Tests/data/resize/make_vectors.py):
/// </summary>
public enum ResampleMode
{
    /// <summary>
    /// <c>torch.nn.functional.interpolate(mode="area")</c> = <c>adaptive_avg_pool2d</c>: output i averages input
    /// <c>[floor(i in/out), ceil((i+1) in/out))</c> with equal weights. Equals cv2 INTER_AREA and PIL BOX for integer factors.
    /// </summary>
    Area,
    /// <summary><c>interpolate(mode="bilinear", align_corners=False, antialias=False)</c>: half-pixel centres, source index clamped at 0, 2 taps.</summary>
    Bilinear,
    /// <summary>
    /// Exact area averaging: output i averages the input interval <c>[i in/out, (i+1) in/out)</c>, edge pixels weighted by
    /// their fractional overlap (weights normalised to sum 1). Equals cv2 INTER_AREA when downscaling, and torch "area"
    /// and PIL BOX at integer factors. The downscale half of docs/preprocessing.md's resize rule.
    /// </summary>
    AreaCoverage,
    /// <summary><c>interpolate(mode="bicubic", align_corners=False, antialias=False)</c>: Keys cubic a = -0.75, 4 taps, border samples replicated.</summary>
    Bicubic,
    /// <summary><c>interpolate(mode="bilinear", antialias=True)</c> = PIL <c>Image.resize(BILINEAR)</c> on mode "F": triangle filter widened by the downscale factor, weights renormalised at borders.</summary>
    BilinearAntialias,
    /// <summary><c>interpolate(mode="bicubic", antialias=True)</c> = PIL <c>Image.resize(BICUBIC)</c> on mode "F": Keys cubic a = -0.5 widened by the downscale factor.</summary>
    BicubicAntialias,
}

/// <summary>
/// Separable resampling of float images (row-major, channels interleaved) as pure span kernels: per-axis weight tables,
/// a horizontal pass (dot products) then a vertical pass (vectorised multiply-adds over whole rows), the order PIL uses.
/// </summary>
public static class Resample
{
    /// <summary>
    /// The resize rule of docs/preprocessing.md, decided per axis: exact area averaging (<see cref="ResampleMode.AreaCoverage"/>)
    /// when the axis shrinks or keeps its size (so equal sizes copy exactly), otherwise bilinear with half-pixel centres and
    /// antialias off (<see cref="ResampleMode.Bilinear"/>).
    /// </summary>
    public static ResampleMode ModelRule(int srcSize, int dstSize) => dstSize <= srcSize ? ResampleMode.AreaCoverage : ResampleMode.Bilinear;

    /// <summary>Resizes with <see cref="ModelRule"/> applied to each axis.</summary>
    public static void ResizeByModelRule(ReadOnlySpan<float> source, int srcWidth, int srcHeight, Span<float> destination, int dstWidth, int dstHeight) =>
        Resize(source, srcWidth, srcHeight, 1, destination, dstWidth, dstHeight, ModelRule(srcWidth, dstWidth), ModelRule(srcHeight, dstHeight));

    /// <summary>
    /// The resize of a 1-D indicator of <c>[start, start + length)</c> from <paramref name="srcSize"/> to
    /// <paramref name="dstSize"/> samples, in double precision (the sum of each output's weights over the indicated taps).
    /// Masks carried through a resize are separable products of two such profiles.
    /// </summary>
    public static double[] IndicatorProfile(int srcSize, int dstSize, int start, int length, ResampleMode mode)
    {
        if (srcSize <= 0 || dstSize <= 0) throw new ArgumentOutOfRangeException(nameof(srcSize), $"sizes must be positive: {srcSize} -> {dstSize}");
        var profile = new double[dstSize];
        AxisWeights.Visit(srcSize, dstSize, 0, dstSize, mode, (i, first, weights) =>
        {
            double sum = 0;
            for (int k = 0; k < weights.Length; k++)
                if (first + k >= start && first + k < start + length) sum += weights[k];
            profile[i] = sum;
        });
        return profile;
    }

    /// <summary>Resizes a Float32 buffer into a new buffer.</summary>
    public static ImageBuffer Resize(ImageBuffer source, int width, int height, ResampleMode mode)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.PixelType != PixelType.Float32) throw new ArgumentException($"resampling works on Float32 buffers; convert the {source} with ToFloat32() first", nameof(source));
        var result = ImageBuffer.Create(width, height, source.Channels, PixelType.Float32);
        Resize(source.Pixels<float>(), source.Width, source.Height, source.Channels, result.Pixels<float>(), width, height, mode);
        return result;
    }

    public static void Resize(ReadOnlySpan<float> source, int srcWidth, int srcHeight, int channels, Span<float> destination, int dstWidth, int dstHeight, ResampleMode mode) =>
        Resize(source, srcWidth, srcHeight, channels, destination, dstWidth, dstHeight, mode, mode);

    /// <summary>Resizes with one mode along x and another along y.</summary>
    public static void Resize(ReadOnlySpan<float> source, int srcWidth, int srcHeight, int channels, Span<float> destination, int dstWidth, int dstHeight,
        ResampleMode modeX, ResampleMode modeY) =>
        Run(source, srcWidth, srcHeight, channels, new PixelRect(0, 0, srcWidth, srcHeight), dstWidth, dstHeight,
            new PixelRect(0, 0, dstWidth, dstHeight), destination, modeX, modeY);

    /// <summary>
    /// Computes only the pixels inside <paramref name="window"/> of the virtual <paramref name="dstWidth"/> x
    /// <paramref name="dstHeight"/> result (identical to cropping a full resize), written packed into
    /// <paramref name="destination"/>. Lets compositing upsample a crop to a large side without materialising it.
    /// </summary>
    public static void ResizeWindow(ReadOnlySpan<float> source, int srcWidth, int srcHeight, int channels,
        int dstWidth, int dstHeight, PixelRect window, Span<float> destination, ResampleMode mode) =>
        Run(source, srcWidth, srcHeight, channels, new PixelRect(0, 0, srcWidth, srcHeight), dstWidth, dstHeight, window, destination, mode, mode);

    /// <summary>
    /// Resizes the rectangle <paramref name="region"/> of the image, which may extend outside it (samples there are 0),
    /// to <paramref name="dstWidth"/> x <paramref name="dstHeight"/>: the same result as copying the zero-padded region
    /// out and resizing it, without the copy (a zoom-in crop of a mammogram can be thousands of pixels wide).
    /// </summary>
    public static void ResizeRegion(ReadOnlySpan<float> image, int width, int height, int channels, PixelRect region,
        Span<float> destination, int dstWidth, int dstHeight, ResampleMode modeX, ResampleMode modeY)
    {
        if (region.IsEmpty) throw new ArgumentOutOfRangeException(nameof(region), $"region {region} is empty");
        Run(image, width, height, channels, region, dstWidth, dstHeight, new PixelRect(0, 0, dstWidth, dstHeight), destination, modeX, modeY);
    }

    private static void Run(ReadOnlySpan<float> source, int srcWidth, int srcHeight, int channels, PixelRect region,
        int dstWidth, int dstHeight, PixelRect window, Span<float> destination, ResampleMode modeX, ResampleMode modeY)
    {
        if (srcWidth <= 0 || srcHeight <= 0 || dstWidth <= 0 || dstHeight <= 0)
            throw new ArgumentOutOfRangeException(nameof(srcWidth), $"sizes must be positive: {srcWidth}x{srcHeight} -> {dstWidth}x{dstHeight}");
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), $"channels must be 1..4, got {channels}");
        if ((long)srcWidth * srcHeight * channels != source.Length)
            throw new ArgumentException($"source has {source.Length} samples, expected {srcWidth}x{srcHeight}x{channels}", nameof(source));
        if (window.IsEmpty || window.Left < 0 || window.Top < 0 || window.Right > dstWidth || window.Bottom > dstHeight)
            throw new ArgumentOutOfRangeException(nameof(window), $"window {window} must be non-empty and inside the {dstWidth}x{dstHeight} result");
        if (destination.Length < (long)window.Width * window.Height * channels)
            throw new ArgumentException($"destination holds {destination.Length} samples, the window needs {window.Width * window.Height * channels}", nameof(destination));

        var wx = AxisWeights.Create(region.Width, dstWidth, window.Left, window.Width, modeX);
        var wy = AxisWeights.Create(region.Height, dstHeight, window.Top, window.Height, modeY);
        int rowMin = wy.Start[0], rowMax = 0;
        for (int i = 0; i < wy.Start.Length; i++) { rowMin = Math.Min(rowMin, wy.Start[i]); rowMax = Math.Max(rowMax, wy.Start[i] + wy.Count[i]); }

        int tmpRow = window.Width * channels;
        int tmpLength = (rowMax - rowMin) * tmpRow;
        var tmp = ArrayPool<float>.Shared.Rent(tmpLength);
        try
        {
            var t = tmp.AsSpan(0, tmpLength);
            int srcRow = srcWidth * channels;
            for (int r = rowMin; r < rowMax; r++)
            {
                int imageRow = region.Top + r;
                var output = t.Slice((r - rowMin) * tmpRow, tmpRow);
                if ((uint)imageRow >= (uint)srcHeight) output.Clear();
                else Horizontal(source.Slice(imageRow * srcRow, srcRow), srcWidth, region.Left, channels, wx, output);
            }
            for (int y = 0; y < window.Height; y++)
            {
                var d = destination.Slice(y * tmpRow, tmpRow);
                int start = wy.Start[y] - rowMin;
                var w = wy.Row(y);
                TensorPrimitives.Multiply(t.Slice(start * tmpRow, tmpRow), w[0], d);
                for (int k = 1; k < w.Length; k++)
                    TensorPrimitives.MultiplyAdd(t.Slice((start + k) * tmpRow, tmpRow), w[k], d, d);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tmp);
        }
    }

    /// <summary>One row of the horizontal pass; taps are in region coordinates, offset by <paramref name="offset"/> into the image row, and taps outside the row read 0.</summary>
    private static void Horizontal(ReadOnlySpan<float> row, int width, int offset, int channels, AxisWeights wx, Span<float> output)
    {
        for (int x = 0; x < wx.Start.Length; x++)
        {
            var w = wx.Row(x);
            int first = wx.Start[x] + offset;
            int k0 = Math.Max(0, -first), k1 = Math.Min(w.Length, width - first);
            if (k1 <= k0)
            {
                output.Slice(x * channels, channels).Clear();
                continue;
            }
            if (channels == 1)
            {
                int taps = k1 - k0;
                if (taps <= 4)
                {
                    // bilinear/bicubic upsampling has 2-4 taps: a plain loop beats a vectorised call's set-up per pixel
                    float sum = 0;
                    for (int k = k0; k < k1; k++) sum += row[first + k] * w[k];
                    output[x] = sum;
                }
                else output[x] = TensorPrimitives.Dot(row.Slice(first + k0, taps), w[k0..k1]);
                continue;
            }
            int s = first * channels;
            for (int c = 0; c < channels; c++)
            {
                float sum = 0;
                for (int k = k0; k < k1; k++) sum += row[s + k * channels + c] * w[k];
                output[x * channels + c] = sum;
            }
        }
    }

    /// <summary>For each output index of one axis: the first input index, the tap count and the tap weights (contiguous taps).</summary>
    private sealed class AxisWeights
    {
        public required int[] Start { get; init; }
        public required int[] Count { get; init; }
        public required float[] Weights { get; init; }
        public required int Stride { get; init; }

        public ReadOnlySpan<float> Row(int i) => Weights.AsSpan(i * Stride, Count[i]);

        public delegate void Visitor(int index, int first, ReadOnlySpan<double> weights);

        public static AxisWeights Create(int inSize, int outSize, int first, int count, ResampleMode mode)
        {
            var start = new int[count];
            var taps = new int[count];
            int stride = MaxTaps(inSize, outSize, mode);
            var weights = new float[count * stride];
            Visit(inSize, outSize, first, count, mode, (i, s, w) =>
            {
                int j = i - first;
                start[j] = s;
                taps[j] = w.Length;
                for (int k = 0; k < w.Length; k++) weights[j * stride + k] = (float)w[k];
            });
            return new AxisWeights { Start = start, Count = taps, Weights = weights, Stride = stride };
        }

        private static int MaxTaps(int inSize, int outSize, ResampleMode mode)
        {
            double scale = (double)inSize / outSize;
            return mode switch
            {
                ResampleMode.Area or ResampleMode.AreaCoverage => (int)Math.Ceiling(scale) + 2,
                ResampleMode.Bilinear => 2,
                ResampleMode.Bicubic => 4,
                ResampleMode.BilinearAntialias => (int)Math.Ceiling(1.0 * Math.Max(scale, 1.0)) * 2 + 1,
                ResampleMode.BicubicAntialias => (int)Math.Ceiling(2.0 * Math.Max(scale, 1.0)) * 2 + 1,
                _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown resample mode"),
            };
        }

        /// <summary>Computes, in double precision, each output's first tap and tap weights and hands them to <paramref name="visit"/>.</summary>
        public static void Visit(int inSize, int outSize, int first, int count, ResampleMode mode, Visitor visit)
        {
            double scale = (double)inSize / outSize;
            int stride = MaxTaps(inSize, outSize, mode);
            var w = new double[stride + 2];
            for (int j = 0; j < count; j++)
            {
                int i = first + j;
                int s, n;
                Array.Clear(w);
                switch (mode)
                {
                    case ResampleMode.Area:
                    {
                        // aten/src/ATen/native/AdaptiveAveragePooling.cpp: start_index / end_index
                        s = (int)((long)i * inSize / outSize);
                        int e = (int)(((long)(i + 1) * inSize + outSize - 1) / outSize);
                        n = e - s;
                        for (int k = 0; k < n; k++) w[k] = 1.0 / n;
                        break;
                    }
                    case ResampleMode.AreaCoverage:
                    {
                        // overlap of input pixel [j, j+1) with [a, b), normalised (cv2 INTER_AREA's coverage weights)
                        double a = i * scale, b = (i + 1) * scale;
                        s = (int)Math.Floor(a);
                        int e = Math.Min((int)Math.Ceiling(b), inSize);
                        n = e - s;
                        double total = 0;
                        for (int k = 0; k < n; k++)
                        {
                            w[k] = Math.Max(0.0, Math.Min(b, s + k + 1) - Math.Max(a, s + k));
                            total += w[k];
                        }
                        for (int k = 0; k < n; k++) w[k] /= total;
                        break;
                    }
                    case ResampleMode.Bilinear:
                    {
                        // aten UpSample.h area_pixel_compute_source_index (align_corners=False): clamp negative to 0
                        double real = Math.Max(scale * (i + 0.5) - 0.5, 0.0);
                        int x0 = Math.Min((int)real, inSize - 1);
                        double l1 = real - x0;
                        if (x0 < inSize - 1) { s = x0; n = 2; w[0] = 1 - l1; w[1] = l1; }
                        else { s = x0; n = 1; w[0] = 1; }
                        break;
                    }
                    case ResampleMode.Bicubic:
                    {
                        // aten UpSampleBicubic2d.cpp: taps x0-1..x0+2 read with clamped indices (upsample_get_value_bounded)
                        double real = scale * (i + 0.5) - 0.5;
                        int x0 = (int)Math.Floor(real);
                        double t = real - x0;
                        const double a = -0.75;
                        Span<double> c = [Cubic2(t + 1, a), Cubic1(t, a), Cubic1(1 - t, a), Cubic2(2 - t, a)];
                        s = Math.Clamp(x0 - 1, 0, inSize - 1);
                        int e = Math.Clamp(x0 + 2, 0, inSize - 1);
                        n = e - s + 1;
                        for (int k = 0; k < 4; k++) w[Math.Clamp(x0 - 1 + k, 0, inSize - 1) - s] += c[k];
                        break;
                    }
                    default:
                    {
                        // aten UpSampleKernel.cpp _compute_indices_weights_aa == PIL Resample.c precompute_coeffs
                        bool cubic = mode == ResampleMode.BicubicAntialias;
                        double support = (cubic ? 2.0 : 1.0) * Math.Max(scale, 1.0);
                        double invScale = scale >= 1.0 ? 1.0 / scale : 1.0;
                        double center = scale * (i + 0.5);
                        s = Math.Max((int)(center - support + 0.5), 0);
                        n = Math.Min((int)(center + support + 0.5), inSize) - s;
                        double total = 0;
                        for (int k = 0; k < n; k++)
                        {
                            double x = (k + s - center + 0.5) * invScale;
                            w[k] = cubic ? KeysAa(x) : Math.Max(0.0, 1.0 - Math.Abs(x));
                            total += w[k];
                        }
                        if (total != 0) for (int k = 0; k < n; k++) w[k] /= total;
                        break;
                    }
                }
                visit(i, s, w.AsSpan(0, n));
            }
        }

        // Keys cubic convolution, |x| <= 1 and 1 < |x| < 2 (aten cubic_convolution1/2).
        private static double Cubic1(double x, double a) => ((a + 2) * x - (a + 3)) * x * x + 1;
        private static double Cubic2(double x, double a) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;

        private static double KeysAa(double x)
        {
            const double a = -0.5;
            x = Math.Abs(x);
            if (x < 1) return Cubic1(x, a);
            if (x < 2) return Cubic2(x, a);
            return 0;
        }
    }
}
