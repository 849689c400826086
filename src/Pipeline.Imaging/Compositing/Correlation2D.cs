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
        double[] re = pool.Rent(size), im = pool.Rent(size), tr = pool.Rent(size), ti = pool.Rent(size);
        try
        {
            Array.Clear(re, 0, size); Array.Clear(im, 0, size);
            for (int y = 0; y < h; y++) a.Slice(y * w, w).CopyTo(re.AsSpan(y * nw, w));
            for (int y = 0; y < kh; y++) k.Slice(y * kw, kw).CopyTo(im.AsSpan(y * nw, kw));
            var tw = Twiddles(nw); var th = nh == nw ? tw : Twiddles(nh);
            // rows at and below h are zero and stay zero under the row transforms
            for (int y = 0; y < h; y++) Transform(re.AsSpan(y * nw, nw), im.AsSpan(y * nw, nw), tw, false);
            Columns(re, im, tr, ti, nw, nh, th, false);
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
            Columns(re, im, tr, ti, nw, nh, th, true);
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
            pool.Return(re); pool.Return(im); pool.Return(tr); pool.Return(ti);
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

    /// <summary>cos and sin of -2 pi j / n for j &lt; n / 2 (the forward transform's twiddle factors).</summary>
    private static (double[] Cos, double[] Sin) Twiddles(int n)
    {
        var c = new double[Math.Max(1, n / 2)]; var s = new double[c.Length];
        for (int j = 0; j < n / 2; j++) { c[j] = Math.Cos(2 * Math.PI * j / n); s[j] = -Math.Sin(2 * Math.PI * j / n); }
        return (c, s);
    }

    /// <summary>In-place DFT of every column (as rows of the transpose, contiguous, in <paramref name="tr"/> and
    /// <paramref name="ti"/>); <paramref name="inverse"/> without the 1/N scaling.</summary>
    private static void Columns(double[] re, double[] im, double[] tr, double[] ti, int nw, int nh, (double[] Cos, double[] Sin) th, bool inverse)
    {
        Transpose(re, tr, nh, nw); Transpose(im, ti, nh, nw);
        for (int x = 0; x < nw; x++) Transform(tr.AsSpan(x * nh, nh), ti.AsSpan(x * nh, nh), th, inverse);
        Transpose(tr, re, nw, nh); Transpose(ti, im, nw, nh);
    }

    /// <summary>dst (columns x rows) = the transpose of src (rows x columns), in 32 x 32 blocks.</summary>
    private static void Transpose(double[] src, double[] dst, int rows, int columns)
    {
        const int block = 32;
        for (int r0 = 0; r0 < rows; r0 += block)
            for (int c0 = 0; c0 < columns; c0 += block)
            {
                int r1 = Math.Min(r0 + block, rows), c1 = Math.Min(c0 + block, columns);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) dst[c * rows + r] = src[r * columns + c];
            }
    }

    /// <summary>In-place iterative radix-2 DFT of a power-of-two length (bit-reversal permutation, then butterflies).</summary>
    private static void Transform(Span<double> re, Span<double> im, (double[] Cos, double[] Sin) t, bool inverse)
    {
        int n = re.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) { (re[i], re[j]) = (re[j], re[i]); (im[i], im[j]) = (im[j], im[i]); }
        }
        for (int len = 2; len <= n; len <<= 1)
        {
            int half = len >> 1, stride = n / len;
            double sign = inverse ? -1 : 1;
            for (int b = 0; b < n; b += len)
                for (int k = 0; k < half; k++)
                {
                    double wr = t.Cos[k * stride], wi = sign * t.Sin[k * stride];
                    int s = b + k, u = s + half;
                    double xr = re[u] * wr - im[u] * wi, xi = re[u] * wi + im[u] * wr;
                    re[u] = re[s] - xr; im[u] = im[s] - xi;
                    re[s] += xr; im[s] += xi;
                }
        }
    }
}
