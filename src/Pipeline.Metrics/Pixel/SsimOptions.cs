namespace Pipeline.Metrics.Pixel;

/// <summary>
/// SSIM settings (Wang et al. 2004, "Image quality assessment: from error visibility to structural similarity").
/// The defaults are the paper's: an 11-tap Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03. The data range
/// has no default on purpose: guessing it from the images (torchmetrics' data_range=None) makes scores incomparable.
/// </summary>
public sealed record SsimOptions
{
    public SsimOptions(double dataRange)
    {
        if (!(dataRange > 0) || double.IsInfinity(dataRange))
            throw new ArgumentOutOfRangeException(nameof(dataRange), dataRange, "SSIM data range must be a positive finite number (e.g. 255 for 8-bit, 1 for [0,1] images)");
        DataRange = dataRange;
    }

    /// <summary>L in the paper: the dynamic range of the samples (max - min possible value).</summary>
    public double DataRange { get; }

    public SsimBorder Border { get; init; } = SsimBorder.ScikitImage;

    public double K1 { get; init; } = 0.01;

    public double K2 { get; init; } = 0.03;

    /// <summary>Gaussian sigma; the window radius is int(3.5 sigma + 0.5) as in scipy.ndimage / scikit-image (5 for 1.5).</summary>
    public double Sigma { get; init; } = 1.5;

    /// <summary>The version of this definition, stored with every result.</summary>
    public string DefinitionVersion => MetricDefinitions.SsimVersion(this);
}
