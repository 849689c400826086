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
    /// pytorch-fid's eps: when the square root comes out non-finite, eps I is added to both covariances and it is
    /// computed again. Set <see cref="AlwaysOffset"/> to add it up front.
    /// </summary>
    public double Offset { get; init; } = 1e-6;

    public bool AlwaysOffset { get; init; }

    public LinearAlgebraBackend Backend { get; init; } = LinearAlgebraBackend.Auto;
}

/// <summary>A Fréchet distance with what went into it and what was unusual.</summary>
/// <param name="Distance">|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).</param>
/// <param name="MeanTerm">|mu1 - mu2|^2.</param>
/// <param name="TraceSqrt">Real part of tr((S1 S2)^(1/2)).</param>
/// <param name="ImaginaryComponent">Largest imaginary eigenvalue of the square root, sqrt(-lambda_min) for negative eigenvalues of
/// S1^(1/2) S2 S1^(1/2) (numerical noise); 0 when none.</param>
/// <param name="OffsetApplied">Whether eps I was added to the covariances.</param>
/// <param name="NearSingular">Whether a covariance is rank-deficient (fewer samples than dimensions, or eigenvalues at rounding level).</param>
/// <param name="Warnings">Sentences for people: why a value may be unreliable.</param>
public sealed record FrechetResult(double Distance, double MeanTerm, double TraceSqrt, double ImaginaryComponent, bool OffsetApplied,
    bool NearSingular, IReadOnlyList<string> Warnings, LinearAlgebraBackend Backend);

/// <summary>
/// The Fréchet distance between two Gaussians fitted to feature sets (Dowson and Landau 1982; Heusel et al. 2017,
/// "GANs trained by a two time-scale update rule...", eq. 6), reported as FD[feature-model]; it is called FID only
/// with the Inception features of pytorch-fid.
/// <para>
/// The square-root trace uses the symmetric form: tr((S1 S2)^(1/2)) = tr((S1^(1/2) S2 S1^(1/2))^(1/2)), because
/// S1 S2 and S1^(1/2) S2 S1^(1/2) are similar. With S1 = V diag(w) V^T, S1^(1/2) S2 S1^(1/2) is similar by V to
/// M = diag(sqrt w) (V^T S2 V) diag(sqrt w), which is symmetric positive semi-definite, so its eigenvalues are real and
/// the trace is sum(sqrt(lambda_i)). Two symmetric eigendecompositions (LAPACK dsyevd) and two products replace scipy's
/// Schur-based sqrtm of a non-symmetric matrix, which is slower and is what produces the complex results
/// pytorch-fid has to guard against. Negative eigenvalues can still appear at rounding level; they are clamped to 0
/// (clean-fid's keep-the-real-part) and reported as <see cref="FrechetResult.ImaginaryComponent"/>.
/// </para>
/// </summary>
public static class FrechetDistance
{
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
        var root = TraceSqrt(a.Covariance, b.Covariance, d, offset ? options.Offset : 0, backend);
        if (!double.IsFinite(root.Trace))
        {
            // pytorch-fid: "fid calculation produces singular product; adding eps to diagonal of cov estimates"
            offset = true;
            warnings.Add($"the square root was not finite; added {options.Offset:G3} to the covariance diagonals (pytorch-fid's offset)");
            root = TraceSqrt(a.Covariance, b.Covariance, d, options.Offset, backend);
        }
        if (root.NearSingular && warnings.Count == 0)
            warnings.Add("a covariance is rank-deficient (eigenvalues at rounding level); FD is well defined but sensitive to the sample");
        if (root.Imaginary > 0 && options.ImaginaryPart == ImaginaryPartPolicy.RaiseAboveTolerance && root.Imaginary > options.ImaginaryTolerance)
            throw new ArithmeticException($"Fréchet distance: imaginary component {root.Imaginary:G3} exceeds {options.ImaginaryTolerance:G3} (pytorch-fid's check); the covariances are too ill-conditioned, use more samples");

        double traceA = 0, traceB = 0;
        for (int i = 0; i < d; i++) { traceA += a.Covariance[i * d + i]; traceB += b.Covariance[i * d + i]; }
        if (offset) { traceA += d * options.Offset; traceB += d * options.Offset; }
        double fd = meanTerm + traceA + traceB - 2 * root.Trace;
        return new FrechetResult(fd, meanTerm, root.Trace, root.Imaginary, offset, root.NearSingular || warnings.Count > 0, warnings, backend);
    }

    /// <summary>FD straight from feature vectors (row after row); statistics are computed in float64.</summary>
    public static FrechetResult Compute(ReadOnlySpan<float> featuresA, int countA, ReadOnlySpan<float> featuresB, int countB, int dimension, FrechetOptions? options = null)
    {
        var backend = (options ?? new FrechetOptions()).Backend;
        return Compute(FeatureStatistics.FromFeatures(featuresA, countA, dimension, "first set", backend),
            FeatureStatistics.FromFeatures(featuresB, countB, dimension, "second set", backend), options);
    }

    private static void CheckFinite(FeatureStatistics s, string name)
    {
        foreach (var v in s.Mean) if (!double.IsFinite(v)) throw new ArgumentException($"Fréchet distance: the {name}'s mean holds {v}");
        foreach (var v in s.Covariance) if (!double.IsFinite(v)) throw new ArgumentException($"Fréchet distance: the {name}'s covariance holds {v}");
    }

    private static (double Trace, double Imaginary, bool NearSingular) TraceSqrt(double[] s1, double[] s2, int d, double offset, LinearAlgebraBackend backend)
    {
        // V, w: eigendecomposition of S1 (+ offset I); symmetrised so only exact symmetry reaches LAPACK.
        var v = Symmetrised(s1, d, offset);
        var w = new double[d];
        DenseLinearAlgebra.SymmetricEigen(v, d, w, vectors: true, backend);
        double wMax = Math.Max(Math.Abs(w[0]), Math.Abs(w[d - 1]));
        double rounding = d * 2.2e-16 * wMax;
        bool nearSingular = w[0] <= rounding;
        var sqrtW = new double[d];
        for (int i = 0; i < d; i++) sqrtW[i] = Math.Sqrt(Math.Max(w[i], 0)); // tiny negative eigenvalues of a PSD matrix are rounding

        // M = diag(sqrt w) V^T S2 V diag(sqrt w)
        var s2s = Symmetrised(s2, d, offset);
        var t = new double[d * d];
        DenseLinearAlgebra.Multiply(s2s, false, v, false, t, d, d, d, backend);       // T = S2 V
        var m = new double[d * d];
        DenseLinearAlgebra.Multiply(v, true, t, false, m, d, d, d, backend);          // M = V^T T
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) m[i * d + j] *= sqrtW[i] * sqrtW[j];
        // symmetrise M against the products' rounding
        for (int i = 0; i < d; i++)
            for (int j = i + 1; j < d; j++) m[i * d + j] = m[j * d + i] = 0.5 * (m[i * d + j] + m[j * d + i]);
        var lambda = new double[d];
        DenseLinearAlgebra.SymmetricEigen(m, d, lambda, vectors: false, backend);
        double trace = 0, imaginary = 0;
        foreach (var l in lambda)
        {
            if (double.IsNaN(l)) return (double.NaN, 0, nearSingular);
            if (l >= 0) trace += Math.Sqrt(l);
            else imaginary = Math.Max(imaginary, Math.Sqrt(-l));
        }
        if (lambda[0] <= d * 2.2e-16 * Math.Abs(lambda[d - 1])) nearSingular = true;
        return (trace, imaginary, nearSingular);
    }

    private static double[] Symmetrised(double[] s, int d, double offset)
    {
        var r = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++) r[i * d + j] = r[j * d + i] = 0.5 * (s[i * d + j] + s[j * d + i]);
            r[i * d + i] += offset;
        }
        return r;
    }
}
