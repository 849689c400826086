using Pipeline.Core.Domains;

namespace Pipeline.Mammography.Training;

/// <summary>Options of `pipeline train-data export` (docs/training.md, "Training data").</summary>
public sealed record TrainingExportOptions
{
    /// <summary>How examples are prepared (the model the training job makes will carry these in model.json).</summary>
    public PreparationSettings Preparation { get; init; } = PreparationSettings.Default;
    /// <summary>Training examples per lesion, each with its own crop ratio; validation lesions have one.</summary>
    public int Variants { get; init; } = 8;
    /// <summary>Every example's seed, and so its crop ratio, derives from this.</summary>
    public ulong Seed { get; init; }
    /// <summary>Held-out fraction of images when the annotation file has no split (by a hash of the image id).</summary>
    public double ValidationFraction { get; init; } = 0.15;
    /// <summary>A `pipeline synth lesion-transfer` folder whose pairs are exported as lesion-transfer examples (null: none).</summary>
    public string? TransferPairs { get; init; }
    /// <summary>Insertion examples per lesion (into lesion-free images of the same split).</summary>
    public int Insertions { get; init; }

    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>(Preparation.Problems());
        if (Variants < 1) p.Add($"variants {Variants} must be >= 1");
        if (Insertions < 0) p.Add($"insertions {Insertions} must be >= 0");
        if (!(ValidationFraction > 0 && ValidationFraction < 1)) p.Add($"validation fraction {ValidationFraction} must be in (0, 1)");
        return p;
    }
}
