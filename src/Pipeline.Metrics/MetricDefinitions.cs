using System.Globalization;
using Pipeline.Metrics.Features;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Metrics;

/// <summary>What a metric is, under which name it is reported, and the version of its definition.</summary>
/// <param name="Name">The reported name, e.g. "ssim", "FD[tiny-feat]", "LPIPS[alex]".</param>
/// <param name="Version">Changes whenever a change to the code or settings could change a value; stored with every result.</param>
/// <param name="Description">One line for people.</param>
/// <param name="HigherIsBetter">Direction of improvement, for tables and plots.</param>
public sealed record MetricDefinition(string Name, string Version, string Description, bool HigherIsBetter);

/// <summary>
/// The metric definitions this library implements and their version strings. A version names the formula revision
/// (the number after '/') and every setting that changes the value, so results computed under different settings
/// never look comparable.
/// </summary>
public static class MetricDefinitions
{
    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static string SsimVersion(SsimOptions o) =>
        $"ssim/1 border={(o.Border == SsimBorder.ScikitImage ? "skimage" : "torchmetrics")} gauss={2 * GaussianWindow.Radius(o.Sigma) + 1}x{F(o.Sigma)} k1={F(o.K1)} k2={F(o.K2)} range={F(o.DataRange)}";

    public static string MsSsimVersion(SsimOptions o) =>
        $"ms-ssim/1 scales=5 betas=torchmetrics normalize=relu pool=avg2x2 " + SsimVersion(o)["ssim/1 ".Length..];

    public static string PsnrVersion(double dataRange) => $"psnr/1 range={F(dataRange)}";

    public const string MseVersion = "mse/1 float64";

    public const string MaeVersion = "mae/1 float64";

    public static string SeamVersion(SeamOptions o) =>
        $"seam/1 band={o.BandWidth} corner={F(o.CornerFraction)} ring={o.RingWidth} floor={F(o.ContrastFloor)}";

    public static MetricDefinition Ssim(SsimOptions o) => new("ssim", SsimVersion(o), "Structural similarity (Wang et al. 2004), mean over the region", true);

    public static MetricDefinition MsSsim(SsimOptions o) => new("ms-ssim", MsSsimVersion(o), "Multi-scale structural similarity (Wang et al. 2003), 5 scales", true);

    public static MetricDefinition Psnr(double dataRange) => new("psnr", PsnrVersion(dataRange), "Peak signal-to-noise ratio in dB, 10 log10(L^2/MSE)", true);

    public static MetricDefinition Mse => new("mse", MseVersion, "Mean squared sample difference", false);

    public static MetricDefinition Mae => new("mae", MaeVersion, "Mean absolute sample difference", false);

    public static MetricDefinition Seam(SeamOptions o) =>
        new("seam", SeamVersion(o), "Straight intensity step along the box border near its corners, in units of the local tissue contrast", false);

    public static string TextureVersion(TextureOptions o) =>
        $"texture/1 sigma={F(o.Sigma)} ring={o.RingWidth} floor={F(o.EnergyFloor)}";

    public static MetricDefinition Texture(TextureOptions o) =>
        new("texture", TextureVersion(o), "Fine texture in the box against the ring around it at the output's full resolution, |ln(rms inside / rms ring)| (0: the same texture; a smooth square scores high)", false);

    public static string DetailVersion(TextureOptions o) =>
        $"detail/1 sigma={F(o.Sigma)} floor={F(o.EnergyFloor)}";

    public static MetricDefinition Detail(TextureOptions o) =>
        new("detail", DetailVersion(o), "Fine detail in the box at the output's full resolution against the untouched source's, ln(rms output / rms source) of the residual after a Gaussian low-pass (0: the source's detail; -0.69: half; an upsampled low-resolution fill scores well below 0)", true);

    public static string FdVersion(FeatureModelDescriptor model) => "fd/1 " + model.Version;

    public static string KidVersion(FeatureModelDescriptor model, int subsetCount, int subsetSize, int seed) =>
        $"kid/1 poly3 subsets={subsetCount}x{subsetSize} seed={seed} " + model.Version;

    public static string LpipsVersion(FeatureModelDescriptor model) => "lpips/1 " + model.Version;

    public static string EmbeddingVersion(FeatureModelDescriptor model) => "cosine100/1 " + model.Version;

    public static MetricDefinition Fd(FeatureModelDescriptor model) =>
        new($"FD[{model.Name}]", FdVersion(model), $"Fréchet distance of {model.Name} features (original vs result patches)", false);

    public static MetricDefinition Kid(FeatureModelDescriptor model, int subsetCount, int subsetSize, int seed) =>
        new($"KID[{model.Name}]", KidVersion(model, subsetCount, subsetSize, seed), $"Kernel distance (unbiased MMD^2, cubic kernel) of {model.Name} features", false);

    /// <summary>LPIPS, or D-LPIPS / I-LPIPS with that prefix.</summary>
    public static MetricDefinition Lpips(FeatureModelDescriptor model, string prefix = "LPIPS") =>
        new($"{prefix}[{model.Name}]", LpipsVersion(model), $"Learned perceptual distance with the {model.Name} backbone", false);

    /// <summary>CLIP-I or DINOv2 (the prefix) with the given embedding model.</summary>
    public static MetricDefinition Embedding(FeatureModelDescriptor model, string prefix) =>
        new($"{prefix}[{model.Name}]", EmbeddingVersion(model), $"100 x cosine similarity of {model.Name} embeddings (box vs reference)", true);
}
