using System.Numerics;
using System.Runtime.InteropServices;

namespace Pipeline.Imaging.Compositing;

/// <summary>
/// Valid-mode 2-D cross-correlation of an image with a kernel, by the fast Fourier transform (the correlation theorem:
/// <c>corr = IFFT(conj(FFT(k)) FFT(a))</c> on arrays zero-padded to powers of two, whose circular wrap-around never
/// reaches the valid part): <c>out[v, u] = sum over i &lt; kh, j &lt; kw of k[i, j] a[v + i, u + j]</c> for
/// <c>v &lt;= h - kh</c>, <c>u &lt;= w - kw</c>. Row-major, float64, iterative radix-2 Cooley-Tukey; agrees with the direct sum to
/// rounding (about 1e-15 of <c>sum |k| |a|</c> times log2 of the size). Pure.
/// </summary>
public static class Correlation2D
{
    /// <summary>The valid correlation of the h x w image <paramref name="a"/> with the kh x kw kernel <paramref name="k"/>:
    /// (h - kh + 1) x (w - kw + 1) values.</summary>
    public static double[] Valid(ReadOnlySpan<double> a, int w, int h, ReadOnlySpan<double> k, int kw, int kh)
    {
        if (w < 1 || h < 1 || a.Length != w * h) throw new ArgumentException($"correlation: the image must hold {w}x{h} samples, got {a.Length}", nameof(a));
        if (kw < 1 || kh < 1 || k.Length != kw * kh) throw new ArgumentException($"correlation: the kernel must hold {kw}x{kh} samples, got {k.Length}", nameof(k));
        if (kw > w || kh > h) throw new ArgumentException($"correlation: the {kw}x{kh} kernel is larger than the {w}x{h} image", nameof(k));
        int nw = PowerOfTwo(w), nh = PowerOfTwo(h), size = nw * nh;
        // both real inputs in one complex transform: z = a + i k, then A(f) = (Z(f) + conj Z(-f)) / 2 and
        // K(f) = (Z(f) - conj Z(-f)) / (2 i)
        var pool = System.Buffers.ArrayPool<double>.Shared;
        double[] re = pool.Rent(size), im = pool.Rent(size);
        try
        {
            Array.Clear(re, 0, size); Array.Clear(im, 0, size);
            for (int y = 0; y < h; y++) a.Slice(y * w, w).CopyTo(re.AsSpan(y * nw, w));
            for (int y = 0; y < kh; y++) k.Slice(y * kw, kw).CopyTo(im.AsSpan(y * nw, kw));
            var tw = Twiddles.For(nw); var th = nh == nw ? tw : Twiddles.For(nh);
            // rows at and below h are zero and stay zero under the row transforms
            for (int y = 0; y < h; y++) Transform(re.AsSpan(y * nw, nw), im.AsSpan(y * nw, nw), tw, false);
            Columns(re.AsSpan(0, size), im.AsSpan(0, size), nw, nh, th, false);
            // conj(K) A, in place: each frequency f and its mirror -f are read before either is written
            for (int v = 0; v < nh; v++)
                for (int u = 0; u < nw; u++)
                {
                    int i = v * nw + u, j = ((nh - v) & (nh - 1)) * nw + ((nw - u) & (nw - 1));
                    if (j < i) continue;
                    double zr = re[i], zi = im[i], mr = re[j], mi = im[j];
                    (re[i], im[i]) = Product(zr, zi, mr, -mi);
                    if (j != i) (re[j], im[j]) = Product(mr, mi, zr, -zi);
                }
            // the inverse: columns, then only the rows of the valid part
            Columns(re.AsSpan(0, size), im.AsSpan(0, size), nw, nh, th, true);
            int ow = w - kw + 1, oh = h - kh + 1;
            for (int v = 0; v < oh; v++) Transform(re.AsSpan(v * nw, nw), im.AsSpan(v * nw, nw), tw, true);
            var result = new double[ow * oh];
            double scale = 1.0 / ((double)nw * nh);
            for (int v = 0; v < oh; v++)
                for (int u = 0; u < ow; u++) result[v * ow + u] = re[v * nw + u] * scale;
            return result;
        }
        finally
        {
            pool.Return(re); pool.Return(im);
        }
    }

    /// <summary>conj(K(f)) A(f) from Z(f) = (zr, zi) and conj Z(-f) = (cr, ci).</summary>
    private static (double Re, double Im) Product(double zr, double zi, double cr, double ci)
    {
        double ar = (zr + cr) / 2, ai = (zi + ci) / 2;          // A(f)
        double kr = (zi - ci) / 2, ki = -(zr - cr) / 2;         // K(f) = (Z - conj Z(-f)) / (2i)
        return (kr * ar + ki * ai, kr * ai - ki * ar);
    }

    private static int PowerOfTwo(int n)
    {
        int p = 1;
        while (p < n) p <<= 1;
        return p;
    }

    /// <summary>The twiddle factors of a length-n transform, stage by stage: the stage of butterfly span 2 half holds
    /// <c>cos(2 pi j / n)</c> and <c>-sin(2 pi j / n)</c> (forward; the inverse's sine negated) for j = k n / (2 half),
    /// k &lt; half, contiguous from index half - 1, so a stage's butterflies read them in order. Cached per n.</summary>
    private sealed class Twiddles
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Twiddles> Cache = new();

        private Twiddles(int n)
        {
            Cos = new double[Math.Max(1, n - 1)]; Sin = new double[Cos.Length]; InverseSin = new double[Cos.Length];
            for (int half = 1; half < n; half <<= 1)
            {
                int stride = n / (2 * half);
                for (int k = 0; k < half; k++)
                {
                    int j = k * stride;
                    Cos[half - 1 + k] = Math.Cos(2 * Math.PI * j / n);
                    Sin[half - 1 + k] = -Math.Sin(2 * Math.PI * j / n);
                    InverseSin[half - 1 + k] = -1 * Sin[half - 1 + k];
                }
            }
        }

        public double[] Cos { get; }
        public double[] Sin { get; }
        public double[] InverseSin { get; }

        public static Twiddles For(int n) => Cache.GetOrAdd(n, static n => new Twiddles(n));
    }

    /// <summary>In-place DFT of every column of the nh x nw row-major arrays (<paramref name="inverse"/> without the 1/N
    /// scaling): the butterflies of <see cref="Transform"/> applied to whole rows at once, a row's samples side by side in
    /// SIMD lanes; the same operations on every sample as a transform of each column on its own.</summary>
    private static void Columns(Span<double> re, Span<double> im, int nw, int nh, Twiddles t, bool inverse)
    {
        for (int i = 1, j = 0; i < nh; i++)
        {
            int bit = nh >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j)
            {
                SwapRows(re, i * nw, j * nw, nw);
                SwapRows(im, i * nw, j * nw, nw);
            }
        }
        var sin = inverse ? t.InverseSin : t.Sin;
        for (int half = 1; half < nh; half <<= 1)
            for (int b = 0; b < nh; b += 2 * half)
                for (int k = 0; k < half; k++)
                {
                    double wr = t.Cos[half - 1 + k], wi = sin[half - 1 + k];
                    int s = (b + k) * nw, u = s + half * nw;
                    Butterflies(re.Slice(s, nw), im.Slice(s, nw), re.Slice(u, nw), im.Slice(u, nw), wr, wi);
                }
    }

    private static void SwapRows(Span<double> a, int i, int j, int n)
    {
        for (int x = 0; x < n; x++) (a[i + x], a[j + x]) = (a[j + x], a[i + x]);
    }

    /// <summary><c>x = z_u w; z_u = z_s - x; z_s = z_s + x</c> for every sample of the rows s and u, one twiddle w.</summary>
    private static void Butterflies(Span<double> rs, Span<double> isr, Span<double> ru, Span<double> iu, double wr, double wi)
    {
        int n = rs.Length, x = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var vr = new Vector<double>(wr); var vi = new Vector<double>(wi);
            ref double prs = ref MemoryMarshal.GetReference(rs), pis = ref MemoryMarshal.GetReference(isr);
            ref double pru = ref MemoryMarshal.GetReference(ru), piu = ref MemoryMarshal.GetReference(iu);
            for (; x <= n - Vector<double>.Count; x += Vector<double>.Count)
            {
                nuint o = (nuint)x;
                var ur = Vector.LoadUnsafe(ref pru, o); var ui = Vector.LoadUnsafe(ref piu, o);
                var sr = Vector.LoadUnsafe(ref prs, o); var si = Vector.LoadUnsafe(ref pis, o);
                var xr = ur * vr - ui * vi; var xi = ur * vi + ui * vr;
                (sr - xr).StoreUnsafe(ref pru, o); (si - xi).StoreUnsafe(ref piu, o);
                (sr + xr).StoreUnsafe(ref prs, o); (si + xi).StoreUnsafe(ref pis, o);
            }
        }
        for (; x < n; x++)
        {
            double xr = ru[x] * wr - iu[x] * wi, xi = ru[x] * wi + iu[x] * wr;
            ru[x] = rs[x] - xr; iu[x] = isr[x] - xi;
            rs[x] += xr; isr[x] += xi;
        }
    }

    /// <summary>In-place iterative radix-2 DFT of a power-of-two length (bit-reversal permutation, then butterflies; the
    /// stages whose span holds a SIMD vector run lane-wise over k with the stage's contiguous twiddles).</summary>
    private static void Transform(Span<double> re, Span<double> im, Twiddles t, bool inverse)
    {
        int n = re.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) { (re[i], re[j]) = (re[j], re[i]); (im[i], im[j]) = (im[j], im[i]); }
        }
        var sin = inverse ? t.InverseSin : t.Sin;
        int lanes = Vector.IsHardwareAccelerated ? Vector<double>.Count : int.MaxValue;
        for (int half = 1; half < n; half <<= 1)
        {
            var cos = t.Cos.AsSpan(half - 1, half);
            var sn = sin.AsSpan(half - 1, half);
            for (int b = 0; b < n; b += 2 * half)
            {
                if (half >= lanes)
                {
                    // rows s and u of the butterflies are the two halves of the block; a twiddle per lane
                    var rs = re.Slice(b, half); var isr = im.Slice(b, half); var ru = re.Slice(b + half, half); var iu = im.Slice(b + half, half);
                    for (int k = 0; k < half; k += lanes)
                    {
                        var vr = new Vector<double>(cos.Slice(k)); var vi = new Vector<double>(sn.Slice(k));
                        var ur = new Vector<double>(ru.Slice(k)); var ui = new Vector<double>(iu.Slice(k));
                        var sr = new Vector<double>(rs.Slice(k)); var si = new Vector<double>(isr.Slice(k));
                        var xr = ur * vr - ui * vi; var xi = ur * vi + ui * vr;
                        (sr - xr).CopyTo(ru.Slice(k)); (si - xi).CopyTo(iu.Slice(k));
                        (sr + xr).CopyTo(rs.Slice(k)); (si + xi).CopyTo(isr.Slice(k));
                    }
                    continue;
                }
                for (int k = 0; k < half; k++)
                {
                    double wr = cos[k], wi = sn[k];
                    int s = b + k, u = s + half;
                    double xr = re[u] * wr - im[u] * wi, xi = re[u] * wi + im[u] * wr;
                    re[u] = re[s] - xr; im[u] = im[s] - xi;
                    re[s] += xr; im[s] += xi;
                }
            }
        }
    }
}
