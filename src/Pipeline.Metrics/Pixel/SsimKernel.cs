using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Pipeline.Metrics.Pixel;

/// <summary>
/// The separable Gaussian filtering behind SSIM and MS-SSIM, one output row at a time, over pooled buffers.
/// <para>
/// The formula needs four filtered planes, not five: mu_x, mu_y, E[xy] and E[x^2 + y^2], because only the sum
/// sigma_x^2 + sigma_y^2 = E[x^2 + y^2] - mu_x^2 - mu_y^2 appears in it. Each input row is read once: its products
/// are formed once, the four planes are filtered along the row (horizontal pass) and kept in a ring of 16 filtered
/// rows. Each output row then filters 2r + 1 ring rows vertically and applies the formula. The 11-tap window is
/// symmetric, so every pass adds the two samples that share a weight before multiplying: six multiply-adds and five
/// adds per plane, with short dependency chains. Everything a row needs (16 x 4 rows of the image width) stays in
/// L2; nothing image-sized is written. Border padding commutes with the filter (it only re-indexes samples), so it is
/// applied to the product row before the horizontal pass and to the row index before the vertical one.
/// </para>
/// </summary>
internal ref struct SsimKernel
{
    private const int Planes = 4;          // mu_x, mu_y, E[x^2 + y^2], E[xy]
    private const int RingRows = 16;       // >= 2r + 1 for sigma up to 2.1 (r = 7); larger windows use a larger ring
    private readonly ReadOnlySpan<double> _x, _y;
    private readonly int _width, _height, _radius, _ring, _padded, _stride;
    private readonly bool _symmetric;
    private readonly double _c1, _c2;
    private readonly double[] _weights;
    private readonly double[] _products;   // Planes x (width + 2r): one padded input row of products
    private readonly double[] _filtered;   // ring x Planes x width: horizontally filtered input rows
    private readonly double[] _nextSsim, _nextCs; // the row after the one asked for, computed with it
    private int _nextInputRow, _nextRow;
    private bool _nextHasSsim, _nextHasCs;

    private static bool Wide => StructuralSimilarity.Lanes == LaneWidth.Bits512;

    public SsimKernel(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int width, int height, SsimOptions options)
    {
        _x = x; _y = y; _width = width; _height = height;
        _weights = GaussianWindow.CachedWeights(options.Sigma);
        _radius = _weights.Length / 2;
        _ring = Math.Max(RingRows, (int)BitOperations.RoundUpToPowerOf2((uint)_weights.Length));
        _padded = width + 2 * _radius;
        _stride = RowStride(width);
        _symmetric = options.Border == SsimBorder.ScikitImage;
        _c1 = (options.K1 * options.DataRange) * (options.K1 * options.DataRange);
        _c2 = (options.K2 * options.DataRange) * (options.K2 * options.DataRange);
        _products = ArrayPool<double>.Shared.Rent(Planes * _padded);
        _filtered = ArrayPool<double>.Shared.Rent(_ring * Planes * _stride);
        _nextSsim = ArrayPool<double>.Shared.Rent(width);
        _nextCs = ArrayPool<double>.Shared.Rent(width);
        _nextInputRow = 0;
        _nextRow = -1;
    }

    public void Dispose()
    {
        ArrayPool<double>.Shared.Return(_products);
        ArrayPool<double>.Shared.Return(_filtered);
        ArrayPool<double>.Shared.Return(_nextSsim);
        ArrayPool<double>.Shared.Return(_nextCs);
    }

    /// <summary>
    /// SSIM of output row <paramref name="row"/> into <paramref name="ssimRow"/> (when not empty) and, when not empty, the
    /// contrast-structure term (2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2) into <paramref name="csRow"/>. Rows
    /// must be asked for in increasing order.
    /// </summary>
    /// <remarks>
    /// Rows are made in pairs: asking for row r also computes row r + 1 (kept until asked for), because the two share
    /// 2r of their 2r + 2 filtered input rows, so each ring row comes from L2 once per pair instead of once per row.
    /// The arithmetic of each row is the same as alone.
    /// </remarks>
    public void Row(int row, Span<double> ssimRow, Span<double> csRow)
    {
        bool wantSsim = ssimRow.Length != 0, wantCs = csRow.Length != 0;
        if (row == _nextRow && wantSsim == _nextHasSsim && wantCs == _nextHasCs)
        {
            if (wantSsim) _nextSsim.AsSpan(0, _width).CopyTo(ssimRow);
            if (wantCs) _nextCs.AsSpan(0, _width).CopyTo(csRow);
            _nextRow = -1;
            return;
        }
        int r = _radius, taps = 2 * r + 1;
        bool pair = row + 1 < _height;
        int last = Math.Min(_height - 1, row + r + (pair ? 1 : 0));
        while (_nextInputRow <= last) FilterInputRow(_nextInputRow++);
        Span<int> offsets = stackalloc int[taps + 1];
        for (int k = 0; k <= taps; k++)
            offsets[k] = (BorderIndex(row + k - r, _height, _symmetric) & (_ring - 1)) * Planes * _stride;
        if (!pair)
        {
            if (Wide) VerticalAndCombine<Lanes512, Vector512<double>>(offsets[..taps], ssimRow, csRow);
            else VerticalAndCombine<Lanes256, Vector256<double>>(offsets[..taps], ssimRow, csRow);
            return;
        }
        var nextSsim = wantSsim ? _nextSsim.AsSpan(0, _width) : default;
        var nextCs = wantCs ? _nextCs.AsSpan(0, _width) : default;
        if (Wide) VerticalAndCombinePair<Lanes512, Vector512<double>>(offsets, ssimRow, csRow, nextSsim, nextCs);
        else VerticalAndCombinePair<Lanes256, Vector256<double>>(offsets, ssimRow, csRow, nextSsim, nextCs);
        (_nextRow, _nextHasSsim, _nextHasCs) = (row + 1, wantSsim, wantCs);
    }

    /// <summary>
    /// Doubles between consecutive filtered rows in the ring: the width rounded up to whole cache lines plus one line,
    /// so the 4 x (2r + 2) rows the vertical pass reads at once fall in different L1 sets (a stride of a multiple of
    /// 4 KB, e.g. 512 doubles, puts them all in one set and each load misses L1).
    /// </summary>
    internal static int RowStride(int width) => (width + 7) / 8 * 8 + 8;

    /// <summary>Index of sample <paramref name="i"/> (possibly outside 0..n-1) after border padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int BorderIndex(int i, int n, bool symmetric)
    {
        // symmetric = scipy.ndimage 'reflect' / numpy 'symmetric' (edge repeated); otherwise torch/numpy 'reflect'.
        if (i < 0) return symmetric ? -i - 1 : -i;
        if (i >= n) return symmetric ? 2 * n - i - 1 : 2 * n - i - 2;
        return i;
    }

    /// <summary>Products of input row <paramref name="j"/>, padded, filtered along the row into its ring slot.</summary>
    private readonly void FilterInputRow(int j)
    {
        int w = _width, r = _radius, pw = _padded, vw = Vector<double>.Count, i = 0;
        var xs = _x.Slice(j * w, w);
        var ys = _y.Slice(j * w, w);
        ref double xb = ref MemoryMarshal.GetReference(xs);
        ref double yb = ref MemoryMarshal.GetReference(ys);
        ref double pb = ref MemoryMarshal.GetArrayDataReference(_products);
        for (; i <= w - vw; i += vw)
        {
            var xv = Vector.LoadUnsafe(ref xb, (nuint)i);
            var yv = Vector.LoadUnsafe(ref yb, (nuint)i);
            nuint o = (nuint)(r + i);
            xv.StoreUnsafe(ref pb, o);
            yv.StoreUnsafe(ref pb, o + (nuint)pw);
            Vector.FusedMultiplyAdd(xv, xv, yv * yv).StoreUnsafe(ref pb, o + (nuint)(2 * pw));
            (xv * yv).StoreUnsafe(ref pb, o + (nuint)(3 * pw));
        }
        for (; i < w; i++)
        {
            double xv = xs[i], yv = ys[i];
            _products[r + i] = xv;
            _products[pw + r + i] = yv;
            _products[2 * pw + r + i] = Math.FusedMultiplyAdd(xv, xv, yv * yv);
            _products[3 * pw + r + i] = xv * yv;
        }
        for (int q = 0; q < Planes; q++)
        {
            var line = _products.AsSpan(q * pw, pw);
            for (int k = 1; k <= r; k++)
            {
                line[r - k] = line[r + BorderIndex(-k, w, _symmetric)];
                line[r + w - 1 + k] = line[r + BorderIndex(w - 1 + k, w, _symmetric)];
            }
        }
        int slot = (j & (_ring - 1)) * Planes * _stride;
        for (int q = 0; q < Planes; q++)
        {
            if (Wide) Horizontal<Lanes512, Vector512<double>>(_products.AsSpan(q * pw, pw), _filtered.AsSpan(slot + q * _stride, w));
            else Horizontal<Lanes256, Vector256<double>>(_products.AsSpan(q * pw, pw), _filtered.AsSpan(slot + q * _stride, w));
        }
    }

    /// <summary>out[i] = sum_k w_k line[i + k], the symmetric taps paired: w_c line[i + r] + sum_{k&lt;r} w_k (line[i + k] + line[i + 2r - k]).</summary>
    private readonly void Horizontal<TL, TV>(ReadOnlySpan<double> line, Span<double> output) where TL : struct, ILanes<TV> where TV : struct
    {
        int r = _radius, w = _width, vw = TL.Count, i = 0;
        var weights = _weights;
        ref double lb = ref MemoryMarshal.GetReference(line);
        ref double ob = ref MemoryMarshal.GetReference(output);
        var wc = TL.Broadcast(weights[r]);
        for (; i <= w - 2 * vw; i += 2 * vw)
        {
            nuint a = (nuint)i, b = (nuint)(i + vw);
            var s0 = TL.Multiply(TL.Load(ref lb, a + (nuint)r), wc);
            var s1 = TL.Multiply(TL.Load(ref lb, b + (nuint)r), wc);
            for (int k = 0; k < r; k++)
            {
                var wk = TL.Broadcast(weights[k]);
                nuint lo = (nuint)k, hi = (nuint)(2 * r - k);
                s0 = TL.MultiplyAdd(TL.Add(TL.Load(ref lb, a + lo), TL.Load(ref lb, a + hi)), wk, s0);
                s1 = TL.MultiplyAdd(TL.Add(TL.Load(ref lb, b + lo), TL.Load(ref lb, b + hi)), wk, s1);
            }
            TL.Store(s0, ref ob, a);
            TL.Store(s1, ref ob, b);
        }
        for (; i < w; i++)
        {
            double s = line[i + r] * weights[r];
            for (int k = 0; k < r; k++) s = Math.FusedMultiplyAdd(line[i + k] + line[i + 2 * r - k], weights[k], s);
            output[i] = s;
        }
    }

    /// <summary>Vertical pass over the ring rows at <paramref name="offsets"/> fused with the SSIM formula (Wang et al. 2004, eq. 13).</summary>
    private readonly void VerticalAndCombine<TL, TV>(ReadOnlySpan<int> offsets, Span<double> ssimRow, Span<double> csRow) where TL : struct, ILanes<TV> where TV : struct
    {
        int r = _radius, w = _width, vw = TL.Count, i = 0;
        var weights = _weights;
        bool wantCs = csRow.Length != 0, wantSsim = ssimRow.Length != 0;
        ref double fb = ref MemoryMarshal.GetArrayDataReference(_filtered);
        var wc = TL.Broadcast(weights[r]);
        nuint p1 = (nuint)_stride, p2 = (nuint)(2 * _stride), p3 = (nuint)(3 * _stride);
        for (; i <= w - vw; i += vw)
        {
            nuint c = (nuint)(offsets[r] + i);
            var ux = TL.Multiply(TL.Load(ref fb, c), wc);
            var uy = TL.Multiply(TL.Load(ref fb, c + p1), wc);
            var uss = TL.Multiply(TL.Load(ref fb, c + p2), wc);
            var uxy = TL.Multiply(TL.Load(ref fb, c + p3), wc);
            for (int k = 0; k < r; k++)
            {
                var wk = TL.Broadcast(weights[k]);
                nuint lo = (nuint)(offsets[k] + i), hi = (nuint)(offsets[2 * r - k] + i);
                ux = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo), TL.Load(ref fb, hi)), wk, ux);
                uy = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo + p1), TL.Load(ref fb, hi + p1)), wk, uy);
                uss = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo + p2), TL.Load(ref fb, hi + p2)), wk, uss);
                uxy = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo + p3), TL.Load(ref fb, hi + p3)), wk, uxy);
            }
            Combine<TL, TV>(ux, uy, uss, uxy, wantSsim, wantCs, ssimRow, csRow, i);
        }
        for (; i < w; i++) CombineOne(offsets, i, ssimRow, csRow);
    }

    /// <summary>Pixel <paramref name="i"/> of a row, in scalar arithmetic (the columns left after the last full vector).</summary>
    private readonly void CombineOne(ReadOnlySpan<int> offsets, int i, Span<double> ssimRow, Span<double> csRow)
    {
        int r = _radius, w = _stride;
        var weights = _weights;
        int c = offsets[r] + i;
        double ux = _filtered[c] * weights[r], uy = _filtered[c + w] * weights[r];
        double uss = _filtered[c + 2 * w] * weights[r], uxy = _filtered[c + 3 * w] * weights[r];
        for (int k = 0; k < r; k++)
        {
            int lo = offsets[k] + i, hi = offsets[2 * r - k] + i;
            ux = Math.FusedMultiplyAdd(_filtered[lo] + _filtered[hi], weights[k], ux);
            uy = Math.FusedMultiplyAdd(_filtered[lo + w] + _filtered[hi + w], weights[k], uy);
            uss = Math.FusedMultiplyAdd(_filtered[lo + 2 * w] + _filtered[hi + 2 * w], weights[k], uss);
            uxy = Math.FusedMultiplyAdd(_filtered[lo + 3 * w] + _filtered[hi + 3 * w], weights[k], uxy);
        }
        double uxuy = ux * uy, squares = Math.FusedMultiplyAdd(ux, ux, uy * uy);
        double a2 = Math.FusedMultiplyAdd(2, uxy - uxuy, _c2), b2 = (uss - squares) + _c2;
        if (ssimRow.Length != 0) ssimRow[i] = Math.FusedMultiplyAdd(2, uxuy, _c1) * a2 / ((squares + _c1) * b2);
        if (csRow.Length != 0) csRow[i] = a2 / b2;
    }

    /// <summary>
    /// <see cref="VerticalAndCombine"/> for two consecutive rows at once: <paramref name="offsets"/> holds 2r + 2 ring
    /// rows, the first row uses offsets[0..2r], the second offsets[1..2r+1]. Each row's sums are formed exactly as alone.
    /// </summary>
    private readonly void VerticalAndCombinePair<TL, TV>(ReadOnlySpan<int> offsets, Span<double> ssim0, Span<double> cs0, Span<double> ssim1, Span<double> cs1)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int r = _radius, w = _width, vw = TL.Count, i = 0;
        var weights = _weights;
        bool wantCs = cs0.Length != 0, wantSsim = ssim0.Length != 0;
        ref double fb = ref MemoryMarshal.GetArrayDataReference(_filtered);
        var wc = TL.Broadcast(weights[r]);
        nuint p1 = (nuint)_stride, p2 = (nuint)(2 * _stride), p3 = (nuint)(3 * _stride);
        for (; i <= w - vw; i += vw)
        {
            nuint c = (nuint)(offsets[r] + i), d = (nuint)(offsets[r + 1] + i);
            var ux0 = TL.Multiply(TL.Load(ref fb, c), wc);
            var uy0 = TL.Multiply(TL.Load(ref fb, c + p1), wc);
            var uss0 = TL.Multiply(TL.Load(ref fb, c + p2), wc);
            var uxy0 = TL.Multiply(TL.Load(ref fb, c + p3), wc);
            var ux1 = TL.Multiply(TL.Load(ref fb, d), wc);
            var uy1 = TL.Multiply(TL.Load(ref fb, d + p1), wc);
            var uss1 = TL.Multiply(TL.Load(ref fb, d + p2), wc);
            var uxy1 = TL.Multiply(TL.Load(ref fb, d + p3), wc);
            for (int k = 0; k < r; k++)
            {
                var wk = TL.Broadcast(weights[k]);
                nuint lo0 = (nuint)(offsets[k] + i), hi0 = (nuint)(offsets[2 * r - k] + i);
                nuint lo1 = (nuint)(offsets[k + 1] + i), hi1 = (nuint)(offsets[2 * r + 1 - k] + i);
                ux0 = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo0), TL.Load(ref fb, hi0)), wk, ux0);
                ux1 = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo1), TL.Load(ref fb, hi1)), wk, ux1);
                uy0 = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo0 + p1), TL.Load(ref fb, hi0 + p1)), wk, uy0);
                uy1 = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo1 + p1), TL.Load(ref fb, hi1 + p1)), wk, uy1);
                uss0 = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo0 + p2), TL.Load(ref fb, hi0 + p2)), wk, uss0);
                uss1 = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo1 + p2), TL.Load(ref fb, hi1 + p2)), wk, uss1);
                uxy0 = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo0 + p3), TL.Load(ref fb, hi0 + p3)), wk, uxy0);
                uxy1 = TL.MultiplyAdd(TL.Add(TL.Load(ref fb, lo1 + p3), TL.Load(ref fb, hi1 + p3)), wk, uxy1);
            }
            Combine<TL, TV>(ux0, uy0, uss0, uxy0, wantSsim, wantCs, ssim0, cs0, i);
            Combine<TL, TV>(ux1, uy1, uss1, uxy1, wantSsim, wantCs, ssim1, cs1, i);
        }
        for (; i < w; i++)
        {
            CombineOne(offsets[..(2 * r + 1)], i, ssim0, cs0);
            CombineOne(offsets[1..], i, ssim1, cs1);
        }
    }

    /// <summary>The SSIM formula (Wang et al. 2004, eq. 13) on filtered moments, stored at column <paramref name="i"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Combine<TL, TV>(TV ux, TV uy, TV uss, TV uxy, bool wantSsim, bool wantCs, Span<double> ssimRow, Span<double> csRow, int i)
        where TL : struct, ILanes<TV> where TV : struct
    {
        var uxuy = TL.Multiply(ux, uy);
        var squares = TL.MultiplyAdd(ux, ux, TL.Multiply(uy, uy));
        var vc2 = TL.Broadcast(_c2);
        var a2 = TL.MultiplyAdd(TL.Broadcast(2.0), TL.Subtract(uxy, uxuy), vc2);
        var b2 = TL.Add(TL.Subtract(uss, squares), vc2);
        if (wantSsim)
        {
            var vc1 = TL.Broadcast(_c1);
            var a1 = TL.MultiplyAdd(TL.Broadcast(2.0), uxuy, vc1);
            var b1 = TL.Add(squares, vc1);
            TL.Store(TL.Divide(TL.Multiply(a1, a2), TL.Multiply(b1, b2)), ref MemoryMarshal.GetReference(ssimRow), (nuint)i);
        }
        if (wantCs) TL.Store(TL.Divide(a2, b2), ref MemoryMarshal.GetReference(csRow), (nuint)i);
    }
}

/// <summary>The register width of the SSIM passes (both give the same values to rounding).</summary>
public enum LaneWidth { Bits256, Bits512 }

/// <summary>The vector operations the SSIM passes use, so one generic body runs on 512-bit or 256-bit registers (the JIT specialises it per struct).</summary>
internal interface ILanes<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Broadcast(double value);
    static abstract TV Load(ref double source, nuint offset);
    static abstract void Store(TV value, ref double destination, nuint offset);
    static abstract TV Add(TV a, TV b);
    static abstract TV Subtract(TV a, TV b);
    static abstract TV Multiply(TV a, TV b);
    static abstract TV Divide(TV a, TV b);
    /// <summary>a b + c, fused (one rounding).</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);
}

internal readonly struct Lanes512 : ILanes<Vector512<double>>
{
    public static int Count => Vector512<double>.Count;
    public static Vector512<double> Broadcast(double value) => Vector512.Create(value);
    public static Vector512<double> Load(ref double source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);
    public static void Store(Vector512<double> value, ref double destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;
    public static Vector512<double> Subtract(Vector512<double> a, Vector512<double> b) => a - b;
    public static Vector512<double> Multiply(Vector512<double> a, Vector512<double> b) => a * b;
    public static Vector512<double> Divide(Vector512<double> a, Vector512<double> b) => a / b;
    public static Vector512<double> MultiplyAdd(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.FusedMultiplyAdd(a, b, c);
}

internal readonly struct Lanes256 : ILanes<Vector256<double>>
{
    public static int Count => Vector256<double>.Count;
    public static Vector256<double> Broadcast(double value) => Vector256.Create(value);
    public static Vector256<double> Load(ref double source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);
    public static void Store(Vector256<double> value, ref double destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;
    public static Vector256<double> Subtract(Vector256<double> a, Vector256<double> b) => a - b;
    public static Vector256<double> Multiply(Vector256<double> a, Vector256<double> b) => a * b;
    public static Vector256<double> Divide(Vector256<double> a, Vector256<double> b) => a / b;
    public static Vector256<double> MultiplyAdd(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.FusedMultiplyAdd(a, b, c);
}
