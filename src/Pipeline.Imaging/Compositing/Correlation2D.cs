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
        int nw = PowerOfTwo(w), nh = PowerOfTwo(h);
        var are = new double[nw * nh]; var aim = new double[nw * nh];
        var kre = new double[nw * nh]; var kim = new double[nw * nh];
        for (int y = 0; y < h; y++) a.Slice(y * w, w).CopyTo(are.AsSpan(y * nw, w));
        for (int y = 0; y < kh; y++) k.Slice(y * kw, kw).CopyTo(kre.AsSpan(y * nw, kw));
        Transform2D(are, aim, nw, nh, false);
        Transform2D(kre, kim, nw, nh, false);
        for (int i = 0; i < are.Length; i++)
        {
            // conj(K) A
            double re = kre[i] * are[i] + kim[i] * aim[i];
            double im = kre[i] * aim[i] - kim[i] * are[i];
            are[i] = re; aim[i] = im;
        }
        Transform2D(are, aim, nw, nh, true);
        int ow = w - kw + 1, oh = h - kh + 1;
        var result = new double[ow * oh];
        double scale = 1.0 / ((double)nw * nh);
        for (int v = 0; v < oh; v++)
            for (int u = 0; u < ow; u++) result[v * ow + u] = are[v * nw + u] * scale;
        return result;
    }

    private static int PowerOfTwo(int n)
    {
        int p = 1;
        while (p < n) p <<= 1;
        return p;
    }

    /// <summary>In-place 2-D DFT (rows, then columns); <paramref name="inverse"/> without the 1/N scaling.</summary>
    private static void Transform2D(double[] re, double[] im, int nw, int nh, bool inverse)
    {
        for (int y = 0; y < nh; y++) Transform(re.AsSpan(y * nw, nw), im.AsSpan(y * nw, nw), inverse);
        var cr = new double[nh]; var ci = new double[nh];
        for (int x = 0; x < nw; x++)
        {
            for (int y = 0; y < nh; y++) { cr[y] = re[y * nw + x]; ci[y] = im[y * nw + x]; }
            Transform(cr, ci, inverse);
            for (int y = 0; y < nh; y++) { re[y * nw + x] = cr[y]; im[y * nw + x] = ci[y]; }
        }
    }

    /// <summary>In-place iterative radix-2 DFT of a power-of-two length (bit-reversal permutation, then butterflies).</summary>
    private static void Transform(Span<double> re, Span<double> im, bool inverse)
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
            double angle = (inverse ? 2 : -2) * Math.PI / len;
            int half = len >> 1;
            for (int k = 0; k < half; k++)
            {
                double wr = Math.Cos(angle * k), wi = Math.Sin(angle * k);
                for (int s = k; s < n; s += len)
                {
                    int t = s + half;
                    double xr = re[t] * wr - im[t] * wi, xi = re[t] * wi + im[t] * wr;
                    re[t] = re[s] - xr; im[t] = im[s] - xi;
                    re[s] += xr; im[s] += xi;
                }
            }
        }
    }
}
