namespace Pipeline.Metrics.Aggregation;

/// <summary>
/// Summary of one metric over a group of items: mean with a percentile-bootstrap confidence interval, population
/// standard deviation, median and range. Non-finite values (e.g. PSNR of identical images, +infinity) are counted in
/// <see cref="NonFinite"/> and left out of every statistic.
/// </summary>
public sealed record MetricSummary(int Count, int NonFinite, double Mean, double Std, double Median, double Min, double Max,
    double CiLow, double CiHigh, double Level);

public sealed record BootstrapOptions
{
    /// <summary>Resamples of the percentile bootstrap (Efron and Tibshirani 1993, ch. 13).</summary>
    public int Resamples { get; init; } = 2000;

    /// <summary>Two-sided confidence level of the interval.</summary>
    public double Level { get; init; } = 0.95;

    /// <summary>Seed: the same values and seed give the same interval.</summary>
    public int Seed { get; init; }
}

/// <summary>Means with bootstrap confidence intervals.</summary>
public static class Bootstrap
{
    /// <summary>Summarises <paramref name="values"/>; null when no finite value is there.</summary>
    public static MetricSummary? Summarize(IEnumerable<double> values, BootstrapOptions? options = null)
    {
        options ??= new BootstrapOptions();
        if (options.Resamples < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Resamples, "bootstrap needs at least 1 resample");
        if (!(options.Level > 0 && options.Level < 1)) throw new ArgumentOutOfRangeException(nameof(options), options.Level, "confidence level must be in (0, 1)");
        var all = values.ToArray();
        var v = all.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return null;
        Array.Sort(v);
        double mean = v.Average();
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
        double median = v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
        var (lo, hi) = MeanInterval(v, options);
        return new MetricSummary(v.Length, all.Length - v.Length, mean, std, median, v[0], v[^1], lo, hi, options.Level);
    }

    /// <summary>Percentile-bootstrap interval of the mean: the alpha/2 and 1 - alpha/2 quantiles of resampled means.</summary>
    public static (double Low, double High) MeanInterval(ReadOnlySpan<double> values, BootstrapOptions options)
    {
        int n = values.Length;
        if (n == 1) return (values[0], values[0]);
        var rng = new Random(options.Seed);
        var means = new double[options.Resamples];
        for (int b = 0; b < means.Length; b++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) s += values[rng.Next(n)];
            means[b] = s / n;
        }
        Array.Sort(means);
        double alpha = 1 - options.Level;
        return (Quantile(means, alpha / 2), Quantile(means, 1 - alpha / 2));
    }

    /// <summary>Linear-interpolated quantile of sorted values (numpy's default 'linear' method).</summary>
    public static double Quantile(ReadOnlySpan<double> sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
