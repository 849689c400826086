namespace Pipeline.Metrics.Distribution;

public sealed record KidOptions
{
    /// <summary>Samples drawn from each set per subset (clean-fid and torchmetrics: 1000).</summary>
    public int SubsetSize { get; init; } = 1000;

    /// <summary>Number of subsets (clean-fid and torchmetrics: 100).</summary>
    public int SubsetCount { get; init; } = 100;

    /// <summary>Seed of the subset sampling; the same seed and inputs give the same KID.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// When a set has fewer samples than <see cref="SubsetSize"/>: false (default, as torchmetrics) fails with a clear error;
    /// true shrinks the subset to the smaller set's size (clean-fid's min(n, 1000)) and says so in the result's warnings.
    /// </summary>
    public bool ShrinkSubsetToSamples { get; init; }

    public LinearAlgebraBackend Backend { get; init; } = LinearAlgebraBackend.Auto;
}

/// <summary>KID over subsets: mean and population standard deviation (torchmetrics' <c>std(unbiased=False)</c>) of the per-subset MMD^2.</summary>
public sealed record KidResult(double Mean, double Std, int SubsetSize, int SubsetCount, int Seed, IReadOnlyList<double> SubsetValues, IReadOnlyList<string> Warnings);

/// <summary>
/// Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs", eq. 2 unbiased MMD^2 with the cubic
/// polynomial kernel k(x, y) = (x.y / d + 1)^3), reported as KID[feature-model]. For subsets X, Y of size m:
/// MMD^2 = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (m(m-1)) - 2 sum_{i,j} k(x_i, y_j) / m^2.
/// The unbiased estimate can be negative on small sets; it is reported as is, never clipped.
/// Subsets are drawn without replacement by a seeded partial Fisher-Yates shuffle (System.Random with the seed).
/// </summary>
public static class KernelInceptionDistance
{
    public static KidResult Compute(ReadOnlySpan<float> featuresX, int countX, ReadOnlySpan<float> featuresY, int countY, int dimension, KidOptions? options = null)
    {
        options ??= new KidOptions();
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "KID: feature dimension must be positive");
        if (featuresX.Length != (long)countX * dimension || featuresY.Length != (long)countY * dimension)
            throw new ArgumentException($"KID: expected {countX} x {dimension} and {countY} x {dimension} feature values; got {featuresX.Length} and {featuresY.Length}");
        if (options.SubsetCount < 1) throw new ArgumentOutOfRangeException(nameof(options), options.SubsetCount, "KID: SubsetCount must be at least 1");
        if (options.SubsetSize < 2) throw new ArgumentOutOfRangeException(nameof(options), options.SubsetSize, "KID: SubsetSize must be at least 2 (the unbiased estimate divides by m(m-1))");
        var warnings = new List<string>();
        int m = options.SubsetSize;
        int fewest = Math.Min(countX, countY);
        if (fewest < m)
        {
            if (!options.ShrinkSubsetToSamples || fewest < 2)
                throw new InsufficientSamplesException(
                    $"KID: too few samples: subset size is {m} but the {(countX < countY ? "first" : "second")} set has only {fewest} " +
                    $"(first {countX}, second {countY}). Give at least {m} samples per set, lower KidOptions.SubsetSize, " +
                    "or set ShrinkSubsetToSamples (KID from small subsets is noisy and not comparable across subset sizes).");
            warnings.Add($"subset size shrunk from {m} to {fewest} because a set has only {fewest} samples; not comparable to KID at subset size {m}");
            m = fewest;
        }
        var backend = DenseLinearAlgebra.Resolve(options.Backend);
        var rng = new Random(options.Seed);
        int[] permX = Enumerable.Range(0, countX).ToArray(), permY = Enumerable.Range(0, countY).ToArray();
        var x = new double[m * dimension];
        var y = new double[m * dimension];
        var scratch = new double[m * m];
        var values = new double[options.SubsetCount];
        for (int s = 0; s < options.SubsetCount; s++)
        {
            Gather(featuresX, dimension, SampleWithoutReplacement(rng, permX, m), x);
            Gather(featuresY, dimension, SampleWithoutReplacement(rng, permY, m), y);
            values[s] = PolynomialMmd2(x, y, m, dimension, scratch, backend);
        }
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
        return new KidResult(mean, Math.Sqrt(variance), m, options.SubsetCount, options.Seed, values, warnings);
    }

    /// <summary>Unbiased MMD^2 with the cubic polynomial kernel between two m x d float64 subsets (row-major).</summary>
    public static double PolynomialMmd2(double[] x, double[] y, int m, int dimension, double[]? scratch = null, LinearAlgebraBackend backend = LinearAlgebraBackend.Auto)
    {
        if (m < 2) throw new ArgumentOutOfRangeException(nameof(m), m, "MMD^2: subsets need at least 2 samples");
        scratch ??= new double[m * m];
        double kxx = KernelSum(x, x, m, dimension, scratch, excludeDiagonal: true, backend);
        double kyy = KernelSum(y, y, m, dimension, scratch, excludeDiagonal: true, backend);
        double kxy = KernelSum(x, y, m, dimension, scratch, excludeDiagonal: false, backend);
        return (kxx + kyy) / ((double)m * (m - 1)) - 2 * kxy / ((double)m * m);
    }

    private static double KernelSum(double[] a, double[] b, int m, int d, double[] gram, bool excludeDiagonal, LinearAlgebraBackend backend)
    {
        DenseLinearAlgebra.Multiply(a, false, b, true, gram, m, m, d, backend); // G = A B^T
        double sum = 0, invD = 1.0 / d;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < m; j++)
            {
                if (excludeDiagonal && i == j) continue;
                double k = gram[i * m + j] * invD + 1;
                sum += k * k * k;
            }
        }
        return sum;
    }

    private static ReadOnlySpan<int> SampleWithoutReplacement(Random rng, int[] perm, int m)
    {
        for (int i = 0; i < m; i++)
        {
            int j = rng.Next(i, perm.Length);
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        return perm.AsSpan(0, m);
    }

    private static void Gather(ReadOnlySpan<float> features, int d, ReadOnlySpan<int> rows, double[] dst)
    {
        for (int r = 0; r < rows.Length; r++)
        {
            var src = features.Slice(rows[r] * d, d);
            for (int j = 0; j < d; j++)
            {
                if (!float.IsFinite(src[j])) throw new ArgumentException($"KID: feature vector {rows[r]} holds a non-finite value ({src[j]}) at index {j}");
                dst[r * d + j] = src[j];
            }
        }
    }
}

/// <summary>A set-level metric was asked for on fewer samples than it needs.</summary>
public sealed class InsufficientSamplesException(string message) : ArgumentException(message);
