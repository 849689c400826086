using System.Globalization;

namespace Pipeline.Core.Domains;

/// <summary>
/// How an item's model inputs are prepared: the model resolution and reference crop side, the zoom-in crop ratio range,
/// the reference box expansion and the model value range. The training-data export records them in its manifest, the
/// training job writes them into model.json ("resolution", "reference.size", "preparation", "valueRange";
/// docs/model-package.md), and inference reads them from there, so a model is never run with other preparation than
/// it was trained with. <see cref="Default"/> holds the values of packages written before model.json had a
/// "preparation" section (AnydoorMed's: docs/reference.md, "Zoom-in crop" and "Reference crop").
/// </summary>
public sealed record PreparationSettings
{
    /// <summary>Crop ratio range and reference expansion of packages without a "preparation" section.</summary>
    public static PreparationSettings Default { get; } = new();

    /// <summary>Side of the square model input (model.json "resolution").</summary>
    public int Resolution { get; init; } = 64;
    /// <summary>Side of the square reference crop (model.json "reference.size").</summary>
    public int ReferenceSize { get; init; } = 64;
    /// <summary>The zoom-in crop's side is ratio x the box's longer edge, ratio drawn uniformly in [min, max) per item.</summary>
    public double CropRatioMin { get; init; } = 3.0;
    public double CropRatioMax { get; init; } = 4.0;
    /// <summary>The reference box is expanded by this factor before cropping.</summary>
    public double ReferenceExpand { get; init; } = 1.2;
    /// <summary>
    /// Gaussian sigma, in model pixels, of the tissue estimate under the box of insertion items (model.json
    /// "preparation.targetTextureSigma"; docs/preprocessing.md "Keeping the target's tissue"): the output is the target
    /// plus what the model generated above that estimate (the lesion), so a model that generates the lesion but only a
    /// smooth tissue around it does not leave a smooth square. 0 (the default, and packages without the field): the
    /// sample is composited as generated. Replacement and reinsertion never keep it (their box holds a lesion).
    /// </summary>
    public double TargetTextureSigma { get; init; }
    /// <summary>
    /// Whether replacement items put the generated lesion over tissue taken from the image itself (model.json
    /// "preparation.tissueDonor"; docs/preprocessing.md "Replacement: tissue from the image itself"): the window of the
    /// target whose surroundings best match the box's, cloned into the box and matched to the target along its border,
    /// with what the model generated above its own background (<see cref="TargetTextureSigma"/>, which must then be
    /// positive) on top. false (the default): replacement is composited as generated.
    /// </summary>
    public bool TissueDonor { get; init; }
    /// <summary>Model value range (model.json "valueRange"): display [0, 1] maps linearly onto it.</summary>
    public double ValueMin { get; init; } = -1.0;
    public double ValueMax { get; init; } = 1.0;

    /// <summary>The problems of these settings, empty when usable (names the fields as model.json and the export do).</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (Resolution < 1) p.Add($"resolution {Resolution} must be positive");
        if (ReferenceSize < 1) p.Add($"reference size {ReferenceSize} must be positive");
        if (!(CropRatioMin >= 1 && CropRatioMax >= CropRatioMin && double.IsFinite(CropRatioMax)))
            p.Add(string.Create(CultureInfo.InvariantCulture, $"crop ratio range [{CropRatioMin}, {CropRatioMax}] must have 1 <= min <= max"));
        if (!(ReferenceExpand >= 1 && double.IsFinite(ReferenceExpand)))
            p.Add(string.Create(CultureInfo.InvariantCulture, $"reference expansion {ReferenceExpand} must be >= 1"));
        if (!(TargetTextureSigma >= 0 && double.IsFinite(TargetTextureSigma)))
            p.Add(string.Create(CultureInfo.InvariantCulture, $"target texture sigma {TargetTextureSigma} must be >= 0 (0: off)"));
        if (TissueDonor && !(TargetTextureSigma > 0))
            p.Add("tissue donor needs a positive target texture sigma (the generated lesion is put over the donor's tissue as over the target's)");
        if (!(ValueMin < ValueMax)) p.Add(string.Create(CultureInfo.InvariantCulture, $"value range [{ValueMin}, {ValueMax}] must have min < max"));
        return p;
    }
}
