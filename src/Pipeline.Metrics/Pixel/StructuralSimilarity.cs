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
    /// border padding of <see cref="SsimOptions.Border"/>. Separable filtering: rows into five scratch planes
    /// (x, y, x^2, y^2, xy), then columns fused with the SSIM formula.
    /// </summary>
    public static void ComputeMaps(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int width, int height, SsimOptions options, Span<double> ssimMap, Span<double> csMap)
    {
        int n = width * height;
        if (x.Length != n || y.Length != n || ssimMap.Length != n || (csMap.Length != 0 && csMap.Length != n))
            throw new ArgumentException($"SSIM maps: every plane must hold {width}x{height} = {n} samples");
        CheckSize(width, height, options, "SSIM");
        double[] w = GaussianWindow.Weights(options.Sigma);
        int r = w.Length / 2;
        bool symmetric = options.Border == SsimBorder.ScikitImage;
        var pool = ArrayPool<double>.Shared;
        double[] h = pool.Rent(5 * n);
        double[] pad = pool.Rent(5 * (width + 2 * r));
        try
        {
            HorizontalPass(x, y, width, height, w, symmetric, h.AsSpan(0, 5 * n), pad);
            VerticalPass(h.AsSpan(0, 5 * n), width, height, w, symmetric, options, ssimMap, csMap);
        }
        finally
        {
            pool.Return(h); pool.Return(pad);
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

    private static void HorizontalPass(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int width, int height, double[] w, bool symmetric, Span<double> h, double[] padBuffer)
    {
        int r = w.Length / 2, pw = width + 2 * r, n = width * height;
        var px = padBuffer.AsSpan(0, pw);
        var py = padBuffer.AsSpan(pw, pw);
        var pxx = padBuffer.AsSpan(2 * pw, pw);
        var pyy = padBuffer.AsSpan(3 * pw, pw);
        var pxy = padBuffer.AsSpan(4 * pw, pw);
        for (int row = 0; row < height; row++)
        {
            var xr = x.Slice(row * width, width);
            var yr = y.Slice(row * width, width);
            xr.CopyTo(px.Slice(r));
            yr.CopyTo(py.Slice(r));
            for (int k = 1; k <= r; k++)
            {
                px[r - k] = xr[BorderIndex(-k, width, symmetric)];
                py[r - k] = yr[BorderIndex(-k, width, symmetric)];
                px[r + width - 1 + k] = xr[BorderIndex(width - 1 + k, width, symmetric)];
                py[r + width - 1 + k] = yr[BorderIndex(width - 1 + k, width, symmetric)];
            }
            // Products of the padded rows are the padded products, since padding only re-indexes samples.
            System.Numerics.Tensors.TensorPrimitives.Multiply(px, px, pxx);
            System.Numerics.Tensors.TensorPrimitives.Multiply(py, py, pyy);
            System.Numerics.Tensors.TensorPrimitives.Multiply(px, py, pxy);
            int o = row * width;
            Correlate(px, w, h.Slice(o, width));
            Correlate(py, w, h.Slice(n + o, width));
            Correlate(pxx, w, h.Slice(2 * n + o, width));
            Correlate(pyy, w, h.Slice(3 * n + o, width));
            Correlate(pxy, w, h.Slice(4 * n + o, width));
        }
    }

    /// <summary>dst[i] = sum_k w[k] src[i + k], vectorised across i.</summary>
    private static void Correlate(ReadOnlySpan<double> src, double[] w, Span<double> dst)
    {
        int taps = w.Length, len = dst.Length, i = 0;
        ref double s = ref MemoryMarshal.GetReference(src);
        ref double d = ref MemoryMarshal.GetReference(dst);
        int vw = Vector<double>.Count;
        for (; i <= len - vw; i += vw)
        {
            var acc = Vector.LoadUnsafe(ref s, (nuint)i) * w[0];
            for (int k = 1; k < taps; k++)
                acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref s, (nuint)(i + k)), new Vector<double>(w[k]), acc);
            acc.StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < len; i++)
        {
            double acc = src[i] * w[0];
            for (int k = 1; k < taps; k++) acc = Math.FusedMultiplyAdd(src[i + k], w[k], acc);
            dst[i] = acc;
        }
    }

    private static void VerticalPass(ReadOnlySpan<double> h, int width, int height, double[] w, bool symmetric, SsimOptions o, Span<double> ssimMap, Span<double> csMap)
    {
        int r = w.Length / 2, taps = w.Length, n = width * height, vw = Vector<double>.Count;
        double c1 = (o.K1 * o.DataRange) * (o.K1 * o.DataRange), c2 = (o.K2 * o.DataRange) * (o.K2 * o.DataRange);
        Span<int> rows = stackalloc int[taps];
        bool wantCs = csMap.Length != 0;
        ref double hb = ref MemoryMarshal.GetReference(h);
        var vc1 = new Vector<double>(c1);
        var vc2 = new Vector<double>(c2);
        var two = new Vector<double>(2.0);
        for (int row = 0; row < height; row++)
        {
            for (int k = 0; k < taps; k++) rows[k] = BorderIndex(row + k - r, height, symmetric) * width;
            int i = 0, o0 = row * width;
            for (; i <= width - vw; i += vw)
            {
                Vector<double> ux = default, uy = default, uxx = default, uyy = default, uxy = default;
                for (int k = 0; k < taps; k++)
                {
                    var wk = new Vector<double>(w[k]);
                    nuint at = (nuint)(rows[k] + i);
                    ux = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref hb, at), wk, ux);
                    uy = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref hb, at + (nuint)n), wk, uy);
                    uxx = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref hb, at + (nuint)(2 * n)), wk, uxx);
                    uyy = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref hb, at + (nuint)(3 * n)), wk, uyy);
                    uxy = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref hb, at + (nuint)(4 * n)), wk, uxy);
                }
                var uxuy = ux * uy;
                var cs = (two * (uxy - uxuy) + vc2) / ((uxx - ux * ux) + (uyy - uy * uy) + vc2);
                var s = (two * uxuy + vc1) / (ux * ux + uy * uy + vc1) * cs;
                s.StoreUnsafe(ref MemoryMarshal.GetReference(ssimMap), (nuint)(o0 + i));
                if (wantCs) cs.StoreUnsafe(ref MemoryMarshal.GetReference(csMap), (nuint)(o0 + i));
            }
            for (; i < width; i++)
            {
                double ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
                for (int k = 0; k < taps; k++)
                {
                    int at = rows[k] + i;
                    ux = Math.FusedMultiplyAdd(h[at], w[k], ux);
                    uy = Math.FusedMultiplyAdd(h[at + n], w[k], uy);
                    uxx = Math.FusedMultiplyAdd(h[at + 2 * n], w[k], uxx);
                    uyy = Math.FusedMultiplyAdd(h[at + 3 * n], w[k], uyy);
                    uxy = Math.FusedMultiplyAdd(h[at + 4 * n], w[k], uxy);
                }
                double uxuy = ux * uy;
                double cs = (2 * (uxy - uxuy) + c2) / ((uxx - ux * ux) + (uyy - uy * uy) + c2);
                ssimMap[o0 + i] = (2 * uxuy + c1) / (ux * ux + uy * uy + c1) * cs;
                if (wantCs) csMap[o0 + i] = cs;
            }
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
