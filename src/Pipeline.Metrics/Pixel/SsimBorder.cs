namespace Pipeline.Metrics.Pixel;

/// <summary>How SSIM treats the image border, the main reason two SSIM implementations disagree.</summary>
public enum SsimBorder
{
    /// <summary>
    /// scikit-image's <c>structural_similarity(gaussian_weights=True, use_sample_covariance=False)</c>: the local
    /// statistics are filtered with scipy.ndimage's 'reflect' mode (half-sample symmetric: d c b a | a b c d), and
    /// the (window-1)/2 = 5 pixel border of the SSIM map is excluded from every mean.
    /// </summary>
    ScikitImage,

    /// <summary>
    /// torchmetrics' <c>structural_similarity_index_measure</c> (after PR #2721): torch 'reflect' padding (the edge
    /// sample is not repeated: c b | a b c d) and the whole map, border included, is averaged.
    /// </summary>
    Torchmetrics,
}
