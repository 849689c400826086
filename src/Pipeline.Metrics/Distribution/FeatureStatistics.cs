namespace Pipeline.Metrics.Distribution;

/// <summary>
/// Mean and covariance of a feature set in float64: mu = mean of the rows, Sigma = (X - mu)^T (X - mu) / (N - 1)
/// (numpy's <c>np.cov(rowvar=False)</c>, as pytorch-fid and clean-fid use). Covariance is d x d, row-major.
/// Save it with the run to compute FD against other runs without their features.
/// </summary>
public sealed class FeatureStatistics
{
    public FeatureStatistics(double[] mean, double[] covariance, int sampleCount)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(covariance);
        if (mean.Length == 0) throw new ArgumentException("feature statistics need at least one dimension", nameof(mean));
        if (covariance.Length != mean.Length * mean.Length)
            throw new ArgumentException($"covariance must be {mean.Length}x{mean.Length} = {mean.Length * mean.Length} values for {mean.Length}-d features; got {covariance.Length}", nameof(covariance));
        Mean = mean; Covariance = covariance; SampleCount = sampleCount;
    }

    public double[] Mean { get; }

    public double[] Covariance { get; }

    public int Dimension => Mean.Length;

    /// <summary>N, the number of feature vectors behind the statistics (0 when unknown, e.g. given directly).</summary>
    public int SampleCount { get; }

    /// <summary>Statistics of <paramref name="count"/> feature vectors of <paramref name="dimension"/> values, row after row.</summary>
    public static FeatureStatistics FromFeatures(ReadOnlySpan<float> features, int count, int dimension, string setName = "features", LinearAlgebraBackend backend = LinearAlgebraBackend.Auto)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"{setName}: feature dimension must be positive");
        if (count < 2) throw new ArgumentException($"{setName}: a covariance needs at least 2 feature vectors; got {count}");
        if (features.Length != (long)count * dimension)
            throw new ArgumentException($"{setName}: expected {count} x {dimension} = {(long)count * dimension} values, got {features.Length}");
        var mean = new double[dimension];
        for (int r = 0; r < count; r++)
        {
            var row = features.Slice(r * dimension, dimension);
            for (int j = 0; j < dimension; j++)
            {
                float v = row[j];
                if (!float.IsFinite(v)) throw new ArgumentException($"{setName}: feature vector {r} holds a non-finite value ({v}) at index {j}");
                mean[j] += v;
            }
        }
        for (int j = 0; j < dimension; j++) mean[j] /= count;
        var centered = new double[count * dimension];
        for (int r = 0; r < count; r++)
            for (int j = 0; j < dimension; j++) centered[r * dimension + j] = features[r * dimension + j] - mean[j];
        var cov = new double[dimension * dimension];
        DenseLinearAlgebra.Multiply(centered, true, centered, false, cov, dimension, dimension, count, backend);
        double scale = 1.0 / (count - 1);
        for (int i = 0; i < cov.Length; i++) cov[i] *= scale;
        return new FeatureStatistics(mean, cov, count);
    }
}
