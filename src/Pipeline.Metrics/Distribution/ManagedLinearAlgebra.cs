using System.Numerics.Tensors;

namespace Pipeline.Metrics.Distribution;

/// <summary>
/// The managed fallback of <see cref="DenseLinearAlgebra"/> (same storage conventions: symmetric input and triangular
/// factors in the lower triangle of row-major arrays). Plain, vectorised span code that needs no native library;
/// LAPACK's blocked routines are several times faster, and the tests check that both give the same values.
/// </summary>
internal static class ManagedLinearAlgebra
{
    private const double RoundingUnit = 2.220446049250313e-16; // float64 machine epsilon

    /// <summary>
    /// Left-looking (Crout) Cholesky, L[i,k] = (S[i,k] - L[i,0..k) . L[k,0..k)) / L[k,k], with rows as contiguous
    /// dot products. With <paramref name="pivot"/>, each step takes the largest remaining diagonal of the Schur
    /// complement (Higham 2002, Algorithm 10.2 / LAPACK dpstrf) and stops when it is at or below
    /// <paramref name="tolerance"/>; without, it stops at the first pivot that is not positive. Returns the rank (the
    /// number of columns of L computed).
    /// </summary>
    public static int Cholesky(double[] a, int n, bool pivot, double tolerance, int[]? permutation)
    {
        // Interchanges move entries across the diagonal: make the upper triangle the mirror of the lower one first.
        if (pivot)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
        // The Schur complement's diagonal, updated as columns of L are computed.
        var diag = new double[n];
        var swap = pivot ? new double[n] : [];
        for (int i = 0; i < n; i++) diag[i] = a[i * n + i];
        if (permutation != null) for (int i = 0; i < n; i++) permutation[i] = i;
        for (int k = 0; k < n; k++)
        {
            int p = k;
            if (pivot)
                for (int i = k + 1; i < n; i++) if (diag[i] > diag[p]) p = i;
            if (!(diag[p] > tolerance)) return k; // also stops on NaN
            if (p != k)
            {
                // Symmetric interchange of rows/columns k and p: whole rows (the computed part of L moves with its row),
                // and columns k and p of the rows that still read the original matrix from the lower triangle.
                a.AsSpan(k * n, n).CopyTo(swap);
                a.AsSpan(p * n, n).CopyTo(a.AsSpan(k * n, n));
                swap.CopyTo(a.AsSpan(p * n, n));
                for (int i = k; i < n; i++) (a[i * n + k], a[i * n + p]) = (a[i * n + p], a[i * n + k]);
                (diag[k], diag[p]) = (diag[p], diag[k]);
                (permutation![k], permutation[p]) = (permutation[p], permutation[k]);
            }
            double lkk = Math.Sqrt(diag[k]);
            a[k * n + k] = lkk;
            var rowK = a.AsSpan(k * n, k);
            for (int i = k + 1; i < n; i++)
            {
                double lik = (a[i * n + k] - TensorPrimitives.Dot(a.AsSpan(i * n, k), rowK)) / lkk;
                a[i * n + k] = lik;
                diag[i] -= lik * lik;
            }
        }
        return n;
    }

    /// <summary>S := L^T S L with S and L in the lower triangles (two products over full copies; the result in full).</summary>
    public static void CholeskyCongruence(double[] s, double[] factor, int n)
    {
        var full = new double[n * n];
        var lower = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                full[i * n + j] = full[j * n + i] = s[i * n + j];
                lower[i * n + j] = factor[i * n + j];
            }
        var sl = new double[n * n];
        DenseLinearAlgebra.Multiply(full, false, lower, false, sl, n, n, n, LinearAlgebraBackend.Managed);   // S L
        DenseLinearAlgebra.Multiply(lower, true, sl, false, s, n, n, n, LinearAlgebraBackend.Managed);      // L^T (S L)
    }

    /// <summary>
    /// Eigenvalues (ascending) of the symmetric matrix in the lower triangle: Householder reduction to tridiagonal form,
    /// then the implicit QL iteration with Wilkinson's shift on the tridiagonal matrix (Golub and Van Loan, 4th ed.,
    /// Algorithms 8.3.1 and 8.3.3; EISPACK tql1), without accumulating any transformation.
    /// </summary>
    public static void SymmetricEigenvalues(double[] a, int n, double[] eigenvalues)
    {
        var full = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) full[i * n + j] = full[j * n + i] = a[i * n + j];
        var d = eigenvalues.AsSpan(0, n);
        var e = new double[n];
        Tridiagonalise(full, n, d, e);
        TridiagonalQl(d, e);
        d.Sort();
    }

    /// <summary>
    /// Q^T A Q = T (diagonal <paramref name="d"/>, sub-diagonal e[0..n-2]) by Householder reflections
    /// H = I - tau v v^T applied from both sides: p = tau A v, w = p - (tau/2)(p.v) v, A := A - v w^T - w v^T
    /// (Golub and Van Loan, §8.3.1). The trailing block is kept in full so that every step is row-wise span work.
    /// </summary>
    private static void Tridiagonalise(double[] a, int n, Span<double> d, Span<double> e)
    {
        var v = new double[n];
        var p = new double[n];
        for (int k = 0; k < n - 1; k++)
        {
            d[k] = a[k * n + k];
            int m = n - k - 1, o = k + 1;
            var x = a.AsSpan(k * n + o, m);   // row k right of the diagonal = column k below it
            double norm = TensorPrimitives.Norm(x);
            if (m == 1 || norm == 0) { e[k] = x[0]; continue; }
            double alpha = x[0] > 0 ? -norm : norm;   // the sign that avoids cancellation in v0
            var vs = v.AsSpan(0, m);
            x.CopyTo(vs);
            vs[0] -= alpha;
            double tau = 2 / TensorPrimitives.Dot(vs, vs);
            e[k] = alpha;
            var ps = p.AsSpan(0, m);
            for (int i = 0; i < m; i++) ps[i] = tau * TensorPrimitives.Dot(a.AsSpan((o + i) * n + o, m), vs);
            double half = 0.5 * tau * TensorPrimitives.Dot(ps, vs);
            for (int i = 0; i < m; i++) ps[i] -= half * vs[i];   // p is now w
            for (int i = 0; i < m; i++)
            {
                var row = a.AsSpan((o + i) * n + o, m);
                TensorPrimitives.MultiplyAdd(vs, -ps[i], row, row);
                TensorPrimitives.MultiplyAdd(ps, -vs[i], row, row);
            }
        }
        d[n - 1] = a[(n - 1) * n + n - 1];
        e[n - 1] = 0;
    }

    /// <summary>
    /// Eigenvalues of the symmetric tridiagonal matrix (diagonal d, sub-diagonal e, e[n-1] unused) in place in
    /// <paramref name="d"/>: implicit QL sweeps with the Wilkinson shift, deflating when |e[m]| falls to rounding
    /// relative to its two diagonal neighbours.
    /// </summary>
    private static void TridiagonalQl(Span<double> d, Span<double> e)
    {
        int n = d.Length;
        for (int l = 0; l < n; l++)
        {
            for (int iteration = 0; ; iteration++)
            {
                int m = l;
                for (; m < n - 1; m++)
                {
                    double scale = Math.Abs(d[m]) + Math.Abs(d[m + 1]);
                    if (Math.Abs(e[m]) <= double.Epsilon + RoundingUnit * scale) break;
                }
                if (m == l) break;
                if (iteration == 60)
                    throw new ArithmeticException($"symmetric eigenvalues: the QL iteration did not converge for eigenvalue {l} of {n}");
                // Wilkinson shift from the leading 2x2 block, then chase the bulge from m up to l with Givens rotations.
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double r = Hypot(g, 1);
                g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
                double s = 1, c = 1, shift = 0;
                int i = m - 1;
                bool underflow = false;
                for (; i >= l; i--)
                {
                    double f = s * e[i], b = c * e[i];
                    r = Hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0)
                    {
                        // f and g both vanished: the matrix splits here; undo the pending shift and restart.
                        d[i + 1] -= shift;
                        e[m] = 0;
                        underflow = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - shift;
                    r = (d[i] - g) * s + 2 * c * b;
                    shift = s * r;
                    d[i + 1] = g + shift;
                    g = c * r - b;
                }
                if (underflow) continue;
                d[l] -= shift;
                e[l] = g;
                e[m] = 0;
            }
        }
    }

    private static double Hypot(double x, double y)
    {
        double ax = Math.Abs(x), ay = Math.Abs(y);
        double big = Math.Max(ax, ay), small = Math.Min(ax, ay);
        if (big == 0) return 0;
        double q = small / big;
        return big * Math.Sqrt(1 + q * q);
    }
}
