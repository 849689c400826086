namespace Pipeline.Metrics.Distribution;

/// <summary>What to do with the imaginary part a matrix square root of Sigma1 Sigma2 can have numerically.</summary>
public enum ImaginaryPartPolicy
{
    /// <summary>clean-fid: keep the real part, whatever the imaginary part (its size is still reported).</summary>
    KeepRealPart,
    /// <summary>pytorch-fid: fail when the largest imaginary component exceeds <see cref="FrechetOptions.ImaginaryTolerance"/> (1e-3).</summary>
    RaiseAboveTolerance,
}

public sealed record FrechetOptions
{
    /// <summary>Default as clean-fid (see <see cref="ImaginaryPartPolicy"/>).</summary>
    public ImaginaryPartPolicy ImaginaryPart { get; init; } = ImaginaryPartPolicy.KeepRealPart;

    /// <summary>pytorch-fid's 1e-3 check on the imaginary components.</summary>
    public double ImaginaryTolerance { get; init; } = 1e-3;

    /// <summary>
    /// pytorch-fid's eps, added to both covariance diagonals when <see cref="AlwaysOffset"/> is set. pytorch-fid adds it
    /// only when scipy's sqrtm comes out non-finite; the rank-deficient path here never needs it.
    /// </summary>
    public double Offset { get; init; } = 1e-6;

    /// <summary>Add <see cref="Offset"/> I to both covariances (pytorch-fid's regularised variant).</summary>
    public bool AlwaysOffset { get; init; }

    public LinearAlgebraBackend Backend { get; init; } = LinearAlgebraBackend.Auto;
}

/// <summary>How the trace of the square root was computed (see <see cref="FrechetDistance"/>).</summary>
public enum FrechetMethod
{
    /// <summary>Both covariances positive definite: S1 = L L^T, eigenvalues of L^T S2 L (one Cholesky, dsygst, values-only dsyevd).</summary>
    Cholesky,
    /// <summary>
    /// A covariance is rank-deficient (fewer samples than dimensions, or pivots at rounding level): pivoted Cholesky of
    /// both, S_k = L_k L_k^T with L_k of the numerical rank r_k, and the singular values of L2^T L1 (r2 x r1).
    /// </summary>
    PivotedCholesky,
}

/// <summary>A Fréchet distance with what went into it and what was unusual.</summary>
/// <param name="Distance">|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).</param>
/// <param name="MeanTerm">|mu1 - mu2|^2.</param>
/// <param name="TraceSqrt">Real part of tr((S1 S2)^(1/2)).</param>
/// <param name="ImaginaryComponent">sqrt(-lambda_min) when the symmetric product whose square roots are summed has a
/// negative eigenvalue (numerical noise, or a covariance that is not positive semi-definite); 0 when none.</param>
/// <param name="OffsetApplied">Whether eps I was added to the covariances.</param>
/// <param name="NearSingular">Whether a covariance is rank-deficient (fewer samples than dimensions, or eigenvalues at rounding level).</param>
/// <param name="Warnings">Sentences for people: why a value may be unreliable.</param>
/// <param name="Method">Which exact path computed the trace.</param>
/// <param name="RankFirst">Numerical rank of the first covariance used by the method (the dimension on the Cholesky path).</param>
/// <param name="RankSecond">Numerical rank of the second covariance (the dimension on the Cholesky path).</param>
public sealed record FrechetResult(double Distance, double MeanTerm, double TraceSqrt, double ImaginaryComponent, bool OffsetApplied,
    bool NearSingular, IReadOnlyList<string> Warnings, LinearAlgebraBackend Backend, FrechetMethod Method, int RankFirst, int RankSecond);

/// <summary>
/// The Fréchet distance between two Gaussians fitted to feature sets (Dowson and Landau 1982; Heusel et al. 2017,
/// "GANs trained by a two time-scale update rule...", eq. 6), reported as FD[feature-model]; it is called FID only
/// with the Inception features of pytorch-fid.
/// <para>
/// Only the trace of the square root is needed. S1 S2 is similar to S1^(1/2) S2 S1^(1/2), which is symmetric positive
/// semi-definite, so tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i) over its eigenvalues. With S1 = L L^T (Cholesky),
/// S1 S2 = L L^T S2 is similar to L^T S2 L, which has the same eigenvalues and is symmetric too: one Cholesky, one
/// triangular congruence (LAPACK dsygst) and a values-only symmetric eigensolver (dsyevd, jobz = 'N') give the trace,
/// with no matrix square root and no eigenvectors (<see cref="FrechetMethod.Cholesky"/>).
/// </para>
/// <para>
/// When a covariance is singular (a set with no more samples than dimensions has rank at most N - 1), the eigenvalues
/// that should be 0 come out at rounding level, and their square roots (1e-8 for 1e-16) would add up to a visible
/// error. The exact path then factors both covariances with pivoted Cholesky, truncated at their numerical rank:
/// S1 = L1 L1^T, S2 = L2 L2^T with L_k of r_k columns, and the eigenvalues of L1^T S2 L1 = A^T A for A = L2^T L1 are
/// the squared singular values of the r2 x r1 matrix A; the trace is their sum (<see cref="FrechetMethod.PivotedCholesky"/>).
/// The path is chosen automatically: when a sample count says a set has no more samples than dimensions, when a
/// Cholesky factorisation fails, or when a pivot falls to n eps max(diag S) (LAPACK dpstrf's default tolerance).
/// </para>
/// </summary>
public static class FrechetDistance
{
    private const double RoundingUnit = 2.220446049250313e-16;

    public static FrechetResult Compute(FeatureStatistics a, FeatureStatistics b, FrechetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new FrechetOptions();
        if (a.Dimension != b.Dimension)
            throw new ArgumentException($"Fréchet distance: the feature sets have different dimensions ({a.Dimension} and {b.Dimension}); they must come from the same feature model and layer");
        CheckFinite(a, "first set");
        CheckFinite(b, "second set");
        var backend = DenseLinearAlgebra.Resolve(options.Backend);
        int d = a.Dimension;
        var warnings = new List<string>();
        foreach (var (s, name) in new[] { (a, "first"), (b, "second") })
            if (s.SampleCount > 0 && s.SampleCount <= d)
                warnings.Add($"the {name} set has {s.SampleCount} samples for {d} dimensions, so its covariance is singular; FD is biased and unstable at this size (use more samples than dimensions)");

        double meanTerm = 0;
        for (int i = 0; i < d; i++) { double t = a.Mean[i] - b.Mean[i]; meanTerm += t * t; }

        bool offset = options.AlwaysOffset;
        var root = SquareRootTrace(a, b, d, offset ? options.Offset : 0, backend, warnings);
        bool nearSingular = root.Method == FrechetMethod.PivotedCholesky;
        if (nearSingular && warnings.Count == 0)
            warnings.Add($"a covariance is rank-deficient (numerical ranks {root.RankFirst} and {root.RankSecond} of {d}); FD is well defined but sensitive to the sample");
        if (root.Imaginary > 0 && options.ImaginaryPart == ImaginaryPartPolicy.RaiseAboveTolerance && root.Imaginary > options.ImaginaryTolerance)
            throw new ArithmeticException($"Fréchet distance: imaginary component {root.Imaginary:G3} exceeds {options.ImaginaryTolerance:G3} (pytorch-fid's check); the covariances are too ill-conditioned or not positive semi-definite, use more samples");

        double traceA = 0, traceB = 0;
        for (int i = 0; i < d; i++) { traceA += a.Covariance[i * d + i]; traceB += b.Covariance[i * d + i]; }
        if (offset) { traceA += d * options.Offset; traceB += d * options.Offset; }
        double fd = meanTerm + traceA + traceB - 2 * root.Trace;
        return new FrechetResult(fd, meanTerm, root.Trace, root.Imaginary, offset, nearSingular || warnings.Count > 0, warnings, backend,
            root.Method, root.RankFirst, root.RankSecond);
    }

    /// <summary>FD straight from feature vectors (row after row); statistics are computed in float64.</summary>
    public static FrechetResult Compute(ReadOnlySpan<float> featuresA, int countA, ReadOnlySpan<float> featuresB, int countB, int dimension, FrechetOptions? options = null)
    {
        var backend = (options ?? new FrechetOptions()).Backend;
        return Compute(FeatureStatistics.FromFeatures(featuresA, countA, dimension, "first set", backend),
            FeatureStatistics.FromFeatures(featuresB, countB, dimension, "second set", backend), options);
    }

    private static bool IsUndersampled(FeatureStatistics s) => s.SampleCount > 0 && s.SampleCount <= s.Dimension;

    private static void CheckFinite(FeatureStatistics s, string name)
    {
        foreach (var v in s.Mean) if (!double.IsFinite(v)) throw new ArgumentException($"Fréchet distance: the {name}'s mean holds {v}");
        foreach (var v in s.Covariance) if (!double.IsFinite(v)) throw new ArgumentException($"Fréchet distance: the {name}'s covariance holds {v}");
    }

    private sealed record TraceRoot(double Trace, double Imaginary, FrechetMethod Method, int RankFirst, int RankSecond, bool Conditioned = true);

    /// <summary>
    /// Chooses the path. Cholesky when S1 factors with every pivot above rounding and S2 does too (checked only when
    /// L^T S2 L has an eigenvalue at rounding level); the pivoted path when a sample count, or a failed or
    /// rounding-level pivot, says a covariance is rank-deficient. A covariance that is
    /// not positive semi-definite (an input error) is kept on the Cholesky path of the other one, so that its negative
    /// directions show as <see cref="FrechetResult.ImaginaryComponent"/> rather than being truncated away.
    /// </summary>
    private static TraceRoot SquareRootTrace(FeatureStatistics a, FeatureStatistics b, int d, double offset, LinearAlgebraBackend backend, List<string> warnings)
    {
        bool undersampled = offset == 0 && (IsUndersampled(a) || IsUndersampled(b));
        TraceRoot? cholesky = null;
        if (!undersampled && SafeFactor(a.Covariance, d, offset, backend) is { } l1)
        {
            cholesky = CholeskyPath(b.Covariance, offset, l1, d, backend);
            // A rounding-level eigenvalue of L^T S2 L comes from a rank-deficient S2 or from two ill-conditioned but
            // full-rank covariances; only the first needs the pivoted path.
            if (cholesky.Conditioned || SafeFactor(b.Covariance, d, offset, backend) != null) return cholesky;
        }
        var f1 = TruncatedFactor(a.Covariance, d, offset, backend);
        var f2 = TruncatedFactor(b.Covariance, d, offset, backend);
        if (f1.PositiveSemidefinite && f2.PositiveSemidefinite) return PivotedPath(f1, f2, d, backend);
        var problems = new List<string>();
        foreach (var (f, name) in new[] { (f1, "first"), (f2, "second") })
            if (!f.PositiveSemidefinite)
                problems.Add($"the {name} covariance is not positive semi-definite (a residual of {f.Residual:G3} after rank {f.Rank}), so it cannot be a covariance");
        if (cholesky == null && SafeFactor(a.Covariance, d, offset, backend) is { } first) cholesky = CholeskyPath(b.Covariance, offset, first, d, backend);
        if (cholesky == null && SafeFactor(b.Covariance, d, offset, backend) is { } second) cholesky = CholeskyPath(a.Covariance, offset, second, d, backend);
        if (cholesky == null)
            throw new ArgumentException($"Fréchet distance: {string.Join("; ", problems)}; and neither covariance is positive definite, which the square root needs");
        warnings.AddRange(problems.Select(p => p + "; its negative part shows as the imaginary component"));
        return cholesky;
    }

    /// <summary>
    /// tr sqrt = sum sqrt(eig(L^T S L)) for the Cholesky factor L of the other covariance (eig(S1 S2) = eig(S2 S1));
    /// not <see cref="TraceRoot.Conditioned"/> when the smallest eigenvalue is at rounding level (n eps lambda_max).
    /// </summary>
    private static TraceRoot CholeskyPath(double[] other, double offset, double[] factor, int d, LinearAlgebraBackend backend)
    {
        var c = WorkingCopy(other, d, offset);
        DenseLinearAlgebra.CholeskyCongruence(c, factor, d, backend);
        var lambda = new double[d];
        DenseLinearAlgebra.SymmetricEigenvalues(c, d, lambda, backend);
        var (trace, imaginary) = SumOfRoots(lambda);
        bool conditioned = lambda[0] > d * RoundingUnit * Math.Abs(lambda[d - 1]);
        return new TraceRoot(trace, imaginary, FrechetMethod.Cholesky, d, d, conditioned);
    }

    /// <summary>The Cholesky factor of S + offset I; null when it fails or a pivot squared is at or below n eps max(diag) (rank-deficient to rounding).</summary>
    private static double[]? SafeFactor(double[] s, int d, double offset, LinearAlgebraBackend backend)
    {
        var a = WorkingCopy(s, d, offset);
        double tolerance = Tolerance(a, d);
        if (!DenseLinearAlgebra.TryCholesky(a, d, backend)) return null;
        for (int i = 0; i < d; i++)
            if (a[i * d + i] * a[i * d + i] <= tolerance) return null;
        return a;
    }

    /// <summary>LAPACK dpstrf's default: n eps max_i S_ii.</summary>
    private static double Tolerance(double[] a, int d)
    {
        double max = 0;
        for (int i = 0; i < d; i++) max = Math.Max(max, a[i * d + i]);
        return d * RoundingUnit * max;
    }

    /// <summary>tr sqrt as the sum of the singular values of A = L2^T L1 for rank-truncated pivoted Cholesky factors.</summary>
    private static TraceRoot PivotedPath(TruncatedCholesky f1, TruncatedCholesky f2, int d, LinearAlgebraBackend backend)
    {
        int r1 = f1.Rank, r2 = f2.Rank;
        if (r1 == 0 || r2 == 0) return new TraceRoot(0, 0, FrechetMethod.PivotedCholesky, r1, r2);
        var product = new double[r2 * r1];
        DenseLinearAlgebra.Multiply(f2.Factor, true, f1.Factor, false, product, r2, r1, d, backend);      // A = L2^T L1, r2 x r1
        int r = Math.Min(r1, r2);
        var gram = new double[r * r];
        if (r1 <= r2) DenseLinearAlgebra.Multiply(product, true, product, false, gram, r, r, r2, backend);  // A^T A
        else DenseLinearAlgebra.Multiply(product, false, product, true, gram, r, r, r1, backend);          // A A^T
        var lambda = new double[r];
        DenseLinearAlgebra.SymmetricEigenvalues(gram, r, lambda, backend);
        var (trace, imaginary) = SumOfRoots(lambda);
        return new TraceRoot(trace, imaginary, FrechetMethod.PivotedCholesky, r1, r2);
    }

    /// <summary>S = F F^T with F (d x Rank, row-major, rows in S's order); Residual: the largest |entry| of S - F F^T.</summary>
    private sealed record TruncatedCholesky(double[] Factor, int Rank, double Residual, bool PositiveSemidefinite);

    /// <summary>
    /// Pivoted Cholesky truncated at the numerical rank, then the check that what was left out is rounding: for a
    /// positive semi-definite matrix every entry of the remaining Schur complement is at most the tolerance the
    /// factorisation stopped at (|R_ij| &lt;= sqrt(R_ii R_jj)); a larger residual means S has negative eigenvalues.
    /// </summary>
    private static TruncatedCholesky TruncatedFactor(double[] covariance, int d, double offset, LinearAlgebraBackend backend)
    {
        var s = WorkingCopy(covariance, d, offset);
        var a = (double[])s.Clone();
        var permutation = new int[d];
        double tolerance = Tolerance(a, d);
        int rank = DenseLinearAlgebra.PivotedCholesky(a, d, permutation, tolerance, backend);
        var f = new double[d * rank];
        for (int i = 0; i < d; i++)
        {
            int row = permutation[i] * rank;
            for (int j = 0, end = Math.Min(i + 1, rank); j < end; j++) f[row + j] = a[i * d + j];
        }
        int m = d - rank;
        double residual = 0;
        if (m > 0)
        {
            var rest = new double[m * rank];
            for (int i = 0; i < m; i++) f.AsSpan(permutation[rank + i] * rank, rank).CopyTo(rest.AsSpan(i * rank, rank));
            var r = new double[m * m];
            DenseLinearAlgebra.Multiply(rest, false, rest, true, r, m, m, rank, backend);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++)
                    residual = Math.Max(residual, Math.Abs(s[permutation[rank + i] * d + permutation[rank + j]] - r[i * m + j]));
        }
        return new TruncatedCholesky(f, rank, residual, residual <= 16 * tolerance);
    }

    private static (double Trace, double Imaginary) SumOfRoots(ReadOnlySpan<double> lambda)
    {
        double trace = 0, imaginary = 0;
        foreach (var l in lambda)
        {
            if (l >= 0) trace += Math.Sqrt(l);
            else imaginary = Math.Max(imaginary, Math.Sqrt(-l));
        }
        return (trace, imaginary);
    }

    /// <summary>
    /// A working copy of S + offset I. Only its lower triangle is read (as numpy's eigh reads one triangle): a
    /// covariance is symmetric, and averaging it with its transpose would cost a strided pass over d^2 values.
    /// </summary>
    private static double[] WorkingCopy(double[] s, int d, double offset)
    {
        var r = GC.AllocateUninitializedArray<double>(d * d);
        s.AsSpan(0, d * d).CopyTo(r);
        if (offset != 0) for (int i = 0; i < d; i++) r[i * d + i] += offset;
        return r;
    }
}
