namespace Pipeline.Metrics.Pixel;

/// <summary>
/// The normalised 1-D Gaussian of scipy.ndimage.gaussian_filter1d (and torchmetrics' <c>_gaussian</c>):
/// taps at x = -r..r with weight exp(-x^2 / (2 sigma^2)), r = int(truncate sigma + 0.5), truncate 3.5, summing to 1.
/// Applied separably (rows, then columns), it is the 2-D window of SSIM.
/// </summary>
public static class GaussianWindow
{
    /// <summary>scikit-image's SSIM truncates the Gaussian at 3.5 sigma, which gives the paper's 11 taps for sigma 1.5.</summary>
    public const double Truncate = 3.5;

    public static int Radius(double sigma) => (int)(Truncate * sigma + 0.5);

    private sealed record Window(double Sigma, double[] Weights);

    private static Window? _last; // one reference: read and replaced atomically

    /// <summary>
    /// <see cref="Weights"/> kept for the last sigma asked for, so the SSIM kernels allocate nothing per call. The
    /// array is shared: callers must not write to it.
    /// </summary>
    internal static double[] CachedWeights(double sigma)
    {
        if (_last is { } last && last.Sigma == sigma) return last.Weights;
        var w = Weights(sigma);
        _last = new Window(sigma, w);
        return w;
    }

    public static double[] Weights(double sigma)
    {
        if (!(sigma > 0) || sigma > 100)
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "Gaussian sigma must be in (0, 100]");
        int r = Radius(sigma);
        var w = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) sum += w[i + r] = Math.Exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < w.Length; i++) w[i] /= sum;
        return w;
    }
}
