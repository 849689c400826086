namespace Pipeline.Imaging.Compositing;

/// <summary>
/// Matching a generated box to the target along its border (docs/preprocessing.md, "Matching the box to its border"):
/// gradient-domain compositing (Pérez, Gangnet and Blake 2003, "Poisson image editing", eq. 2 with the guidance field
/// v = grad(sample)). The output keeps the generated sample's gradients inside the box and meets the target exactly
/// outside it, so a sample whose background is offset from the surrounding tissue, or tilted, is corrected by the
/// smooth (harmonic) membrane that makes the difference vanish at the border:
/// <code>out = original outside the box; out = sample + f inside it, where
/// 4 f(p) - sum of f over the 4-neighbours of p = 0 for every box pixel p, with f(q) = original(q) - sample(q) for a
/// neighbour q outside the box (0 for a neighbour outside the crop)</code>
/// (the discrete Laplace equation with Dirichlet values on the pixels just outside the box), clamped to [-1, 1].
/// A sample equal to the original plus a constant or a linear ramp gives the original back exactly (up to float
/// rounding): the membrane removes what is harmonic. The box is a rectangle, so the system is solved exactly with the
/// discrete sine transform that diagonalises the 5-point Laplacian with Dirichlet borders (h x w box:
/// <c>f = S_h [(S_h B S_w) / (lambda_i + lambda_j)] S_w</c>, <c>S_n[j, k] = sqrt(2 / (n + 1)) sin(pi j k / (n + 1))</c>,
/// <c>lambda_k = 2 - 2 cos(pi k / (n + 1))</c>, B the border values summed per box pixel), float64, fixed order. Pure.
/// </summary>
public static class BoundaryMatch
{
    /// <summary>The sample matched to the original along the border of the box [left, left + width) x [top, top + height)
    /// of a resolution x resolution crop (model space).</summary>
    public static float[] Apply(ReadOnlySpan<float> sample, ReadOnlySpan<float> original, int resolution, int left, int top, int width, int height)
    {
        int n = resolution * resolution;
        if (resolution < 1) throw new ArgumentOutOfRangeException(nameof(resolution), $"resolution must be positive, got {resolution}");
        if (sample.Length != n || original.Length != n)
            throw new ArgumentException($"sample and original must hold {resolution}x{resolution} samples (got {sample.Length} and {original.Length})");
        if (width < 1 || height < 1 || left < 0 || top < 0 || left + width > resolution || top + height > resolution)
            throw new ArgumentOutOfRangeException(nameof(width), $"box [{left}, {left + width}) x [{top}, {top + height}) must be non-empty and inside the {resolution}x{resolution} crop");

        // Border values summed per box pixel: the right-hand side of the Dirichlet problem.
        var b = new double[height * width];
        for (int y = 0; y < height; y++)
        {
            b[y * width] += Difference(sample, original, resolution, left - 1, top + y);
            b[y * width + width - 1] += Difference(sample, original, resolution, left + width, top + y);
        }
        for (int x = 0; x < width; x++)
        {
            b[x] += Difference(sample, original, resolution, left + x, top - 1);
            b[(height - 1) * width + x] += Difference(sample, original, resolution, left + x, top + height);
        }

        var sh = SineBasis(height);
        var sw = SineBasis(width);
        var lh = Eigenvalues(height);
        var lw = Eigenvalues(width);
        var t = Multiply(Multiply(sh, b, height, height, width), sw, height, width, width); // S_h B S_w
        for (int i = 0; i < height; i++)
            for (int j = 0; j < width; j++)
                t[i * width + j] /= lh[i] + lw[j];
        var f = Multiply(Multiply(sh, t, height, height, width), sw, height, width, width);

        var result = original.ToArray();
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (top + y) * resolution + left + x;
                result[i] = (float)Math.Clamp(sample[i] + f[y * width + x], -1.0, 1.0);
            }
        return result;
    }

    /// <summary>original - sample at (x, y); 0 outside the crop.</summary>
    private static double Difference(ReadOnlySpan<float> sample, ReadOnlySpan<float> original, int resolution, int x, int y) =>
        x < 0 || y < 0 || x >= resolution || y >= resolution ? 0.0 : (double)original[y * resolution + x] - sample[y * resolution + x];

    /// <summary>The orthonormal, symmetric DST-I matrix of size n (its own inverse).</summary>
    private static double[] SineBasis(int n)
    {
        var s = new double[n * n];
        double scale = Math.Sqrt(2.0 / (n + 1));
        for (int j = 0; j < n; j++)
            for (int k = 0; k < n; k++)
                s[j * n + k] = scale * Math.Sin(Math.PI * (j + 1) * (k + 1) / (n + 1));
        return s;
    }

    /// <summary>Eigenvalues of tridiag(-1, 2, -1) of size n, in the order of <see cref="SineBasis"/>'s columns.</summary>
    private static double[] Eigenvalues(int n)
    {
        var l = new double[n];
        for (int k = 0; k < n; k++) l[k] = 2 - 2 * Math.Cos(Math.PI * (k + 1) / (n + 1));
        return l;
    }

    /// <summary>(rows x inner) times (inner x columns), row-major.</summary>
    private static double[] Multiply(double[] a, double[] b, int rows, int inner, int columns)
    {
        var c = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < inner; k++)
            {
                double v = a[i * inner + k];
                for (int j = 0; j < columns; j++) c[i * columns + j] += v * b[k * columns + j];
            }
        return c;
    }
}
