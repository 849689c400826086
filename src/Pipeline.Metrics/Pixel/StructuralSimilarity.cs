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
    /// <summary>SSIM on the whole image and, when <paramref name="mask"/> is given, inside and outside it.</summary>
    public static RegionScores Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, PlaneShape shape, SsimOptions options, ReadOnlySpan<byte> mask = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        shape.Validate(a.Length, b.Length, mask.Length, "SSIM");
        PlaneShape.CheckFinite(a, "SSIM", "first");
        PlaneShape.CheckFinite(b, "SSIM", "second");
        CheckSize(shape.Width, shape.Height, options, "SSIM");
        int n = shape.PixelCount;
        var pool = ArrayPool<double>.Shared;
        double[] x = pool.Rent(n), y = pool.Rent(n), map = pool.Rent(n);
        try
        {
            var sums = new RegionSums();
            for (int c = 0; c < shape.Channels; c++)
            {
                ExtractPlane(a, shape.Channels, c, x.AsSpan(0, n));
                ExtractPlane(b, shape.Channels, c, y.AsSpan(0, n));
                ComputeMaps(x.AsSpan(0, n), y.AsSpan(0, n), shape.Width, shape.Height, options, map.AsSpan(0, n), default);
                sums.Add(map.AsSpan(0, n), shape.Width, shape.Height, ExcludedBorder(options), mask);
            }
            return sums.ToScores(mask.Length > 0);
        }
        finally
        {
            pool.Return(x); pool.Return(y); pool.Return(map);
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
    /// border padding of <see cref="SsimOptions.Border"/>. Separable filtering row by row: for each output row the
    /// column filter of x, y, x^2, y^2, xy (products formed on the fly) fills five padded row buffers, then the row
    /// filter and the SSIM formula run over them. Everything a row needs stays in L1/L2; nothing image-sized is written
    /// but the map itself.
    /// </summary>
    public static void ComputeMaps(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int width, int height, SsimOptions options, Span<double> ssimMap, Span<double> csMap)
    {
        int n = width * height;
        if (x.Length != n || y.Length != n || ssimMap.Length != n || (csMap.Length != 0 && csMap.Length != n))
            throw new ArgumentException($"SSIM maps: every plane must hold {width}x{height} = {n} samples");
        CheckSize(width, height, options, "SSIM");
        double[] w = GaussianWindow.Weights(options.Sigma);
        int r = w.Length / 2, pw = width + 2 * r;
        bool symmetric = options.Border == SsimBorder.ScikitImage;
        var pool = ArrayPool<double>.Shared;
        double[] pad = pool.Rent(5 * pw);
        try
        {
            Span<int> rows = stackalloc int[w.Length];
            for (int row = 0; row < height; row++)
            {
                for (int k = 0; k < w.Length; k++) rows[k] = BorderIndex(row + k - r, height, symmetric) * width;
                ColumnFilter(x, y, width, rows, w, pad.AsSpan(0, 5 * pw), symmetric);
                RowFilterAndCombine(pad.AsSpan(0, 5 * pw), width, w, options, ssimMap.Slice(row * width, width), csMap.Length == 0 ? default : csMap.Slice(row * width, width));
            }
        }
        finally
        {
            pool.Return(pad);
        }
    }

    /// <summary>Index of sample <paramref name="i"/> (possibly outside 0..n-1) after border padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int BorderIndex(int i, int n, bool symmetric)
    {
        // symmetric = scipy.ndimage 'reflect' / numpy 'symmetric' (edge repeated); otherwise torch/numpy 'reflect'.
        if (i < 0) return symmetric ? -i - 1 : -i;
        if (i >= n) return symmetric ? 2 * n - i - 1 : 2 * n - i - 2;
        return i;
    }

    /// <summary>
    /// Column filter of one output row into five row buffers of width + 2r (x, y, xx, yy, xy at offsets 0, pw, ..),
    /// written at offset r, then the r-sample borders filled by the border rule (padding commutes with the column
    /// filter, since padding only re-indexes columns).
    /// </summary>
    private static void ColumnFilter(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int width, ReadOnlySpan<int> rows, double[] w, Span<double> pad, bool symmetric)
    {
        int taps = w.Length, r = taps / 2, pw = width + 2 * r, vw = Vector<double>.Count, i = 0;
        ref double xb = ref MemoryMarshal.GetReference(x);
        ref double yb = ref MemoryMarshal.GetReference(y);
        ref double pb = ref MemoryMarshal.GetReference(pad);
        for (; i <= width - vw; i += vw)
        {
            Vector<double> ux = default, uy = default, uxx = default, uyy = default, uxy = default;
            for (int k = 0; k < taps; k++)
            {
                var wk = new Vector<double>(w[k]);
                nuint at = (nuint)(rows[k] + i);
                var xv = Vector.LoadUnsafe(ref xb, at);
                var yv = Vector.LoadUnsafe(ref yb, at);
                ux = Vector.FusedMultiplyAdd(xv, wk, ux);
                uy = Vector.FusedMultiplyAdd(yv, wk, uy);
                uxx = Vector.FusedMultiplyAdd(xv * xv, wk, uxx);
                uyy = Vector.FusedMultiplyAdd(yv * yv, wk, uyy);
                uxy = Vector.FusedMultiplyAdd(xv * yv, wk, uxy);
            }
            nuint o = (nuint)(r + i);
            ux.StoreUnsafe(ref pb, o);
            uy.StoreUnsafe(ref pb, o + (nuint)pw);
            uxx.StoreUnsafe(ref pb, o + (nuint)(2 * pw));
            uyy.StoreUnsafe(ref pb, o + (nuint)(3 * pw));
            uxy.StoreUnsafe(ref pb, o + (nuint)(4 * pw));
        }
        for (; i < width; i++)
        {
            double ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
            for (int k = 0; k < taps; k++)
            {
                double xv = x[rows[k] + i], yv = y[rows[k] + i];
                ux = Math.FusedMultiplyAdd(xv, w[k], ux);
                uy = Math.FusedMultiplyAdd(yv, w[k], uy);
                uxx = Math.FusedMultiplyAdd(xv * xv, w[k], uxx);
                uyy = Math.FusedMultiplyAdd(yv * yv, w[k], uyy);
                uxy = Math.FusedMultiplyAdd(xv * yv, w[k], uxy);
            }
            pad[r + i] = ux; pad[pw + r + i] = uy; pad[2 * pw + r + i] = uxx; pad[3 * pw + r + i] = uyy; pad[4 * pw + r + i] = uxy;
        }
        for (int q = 0; q < 5; q++)
        {
            var line = pad.Slice(q * pw, pw);
            for (int k = 1; k <= r; k++)
            {
                line[r - k] = line[r + BorderIndex(-k, width, symmetric)];
                line[r + width - 1 + k] = line[r + BorderIndex(width - 1 + k, width, symmetric)];
            }
        }
    }

    /// <summary>Row filter of the five buffers fused with the SSIM formula (Wang et al. 2004, eq. 13) for one output row.</summary>
    private static void RowFilterAndCombine(ReadOnlySpan<double> pad, int width, double[] w, SsimOptions o, Span<double> ssimRow, Span<double> csRow)
    {
        int taps = w.Length, r = taps / 2, pw = width + 2 * r, vw = Vector<double>.Count, i = 0;
        double c1 = (o.K1 * o.DataRange) * (o.K1 * o.DataRange), c2 = (o.K2 * o.DataRange) * (o.K2 * o.DataRange);
        bool wantCs = csRow.Length != 0;
        ref double pb = ref MemoryMarshal.GetReference(pad);
        var vc1 = new Vector<double>(c1);
        var vc2 = new Vector<double>(c2);
        var two = new Vector<double>(2.0);
        for (; i <= width - vw; i += vw)
        {
            Vector<double> ux = default, uy = default, uxx = default, uyy = default, uxy = default;
            for (int k = 0; k < taps; k++)
            {
                var wk = new Vector<double>(w[k]);
                nuint at = (nuint)(i + k);
                ux = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref pb, at), wk, ux);
                uy = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref pb, at + (nuint)pw), wk, uy);
                uxx = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref pb, at + (nuint)(2 * pw)), wk, uxx);
                uyy = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref pb, at + (nuint)(3 * pw)), wk, uyy);
                uxy = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref pb, at + (nuint)(4 * pw)), wk, uxy);
            }
            var uxuy = ux * uy;
            var a2 = two * (uxy - uxuy) + vc2;
            var b2 = (uxx - ux * ux) + (uyy - uy * uy) + vc2;
            var a1 = two * uxuy + vc1;
            var b1 = ux * ux + uy * uy + vc1;
            (a1 * a2 / (b1 * b2)).StoreUnsafe(ref MemoryMarshal.GetReference(ssimRow), (nuint)i);
            if (wantCs) (a2 / b2).StoreUnsafe(ref MemoryMarshal.GetReference(csRow), (nuint)i);
        }
        for (; i < width; i++)
        {
            double ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
            for (int k = 0; k < taps; k++)
            {
                int at = i + k;
                ux = Math.FusedMultiplyAdd(pad[at], w[k], ux);
                uy = Math.FusedMultiplyAdd(pad[at + pw], w[k], uy);
                uxx = Math.FusedMultiplyAdd(pad[at + 2 * pw], w[k], uxx);
                uyy = Math.FusedMultiplyAdd(pad[at + 3 * pw], w[k], uyy);
                uxy = Math.FusedMultiplyAdd(pad[at + 4 * pw], w[k], uxy);
            }
            double uxuy = ux * uy;
            double a2 = 2 * (uxy - uxuy) + c2, b2 = (uxx - ux * ux) + (uyy - uy * uy) + c2;
            ssimRow[i] = (2 * uxuy + c1) * a2 / ((ux * ux + uy * uy + c1) * b2);
            if (wantCs) csRow[i] = a2 / b2;
        }
    }
}

/// <summary>Running sums of a per-pixel map over the whole image and inside / outside a mask, border excluded.</summary>
internal struct RegionSums
{
    private double _whole, _inside, _outside;
    private long _nWhole, _nInside, _nOutside;

    public void Add(ReadOnlySpan<double> map, int width, int height, int border, ReadOnlySpan<byte> mask)
    {
        int w = width - 2 * border;
        for (int row = border; row < height - border; row++)
        {
            var line = map.Slice(row * width + border, w);
            double total = System.Numerics.Tensors.TensorPrimitives.Sum(line);
            _whole += total;
            _nWhole += w;
            if (mask.Length == 0) continue;
            var m = mask.Slice(row * width + border, w);
            double inside = 0;
            int count = 0;
            for (int i = 0; i < w; i++)
            {
                if (m[i] != 0) { inside += line[i]; count++; }
            }
            _inside += inside;
            _nInside += count;
            _outside += total - inside;
            _nOutside += w - count;
        }
    }

    public readonly RegionScores ToScores(bool masked) => new(
        _whole / _nWhole,
        masked && _nInside > 0 ? _inside / _nInside : null,
        masked && _nOutside > 0 ? _outside / _nOutside : null);
}
