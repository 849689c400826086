namespace Pipeline.Metrics.Pixel;

/// <summary>
/// One metric on the whole image and, when a mask was given, inside and outside it. A region with no pixel that
/// counts (an empty mask, or a mask that lies only in SSIM's excluded border) has no value: null, never 0 or NaN.
/// </summary>
public sealed record RegionScores(double Whole, double? Inside = null, double? Outside = null);
