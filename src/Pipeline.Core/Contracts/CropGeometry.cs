namespace Pipeline.Core.Contracts;

/// <summary>
/// Geometry of one item's square crop, kept from Preprocess to Compose, Measure and the report: the crop in source
/// pixels (<see cref="Left"/>, <see cref="Top"/>, <see cref="Side"/>), the model resolution it was resampled to, the
/// object's box in model pixels, the crop ratio drawn for the item (docs/preprocessing.md), and
/// <see cref="TextureSigma"/>: when positive, Compose and Measure keep the target's own texture in the box (the band of
/// the target above a Gaussian of that many model pixels, and at full resolution the band the crop's resampling removes;
/// docs/preprocessing.md "Keeping the target's texture"); 0 when the sample is composited as generated.
/// </summary>
public sealed record CropGeometry(int Left, int Top, int Side, int Resolution, int BoxLeft, int BoxTop, int BoxWidth, int BoxHeight, double Ratio,
    double TextureSigma = 0);
