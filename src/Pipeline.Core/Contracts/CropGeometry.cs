namespace Pipeline.Core.Contracts;

/// <summary>
/// Geometry of one item's square crop, kept from Preprocess to Compose, Measure and the report: the crop in source
/// pixels (<see cref="Left"/>, <see cref="Top"/>, <see cref="Side"/>), the model resolution it was resampled to, the
/// object's box in model pixels, and the crop ratio drawn for the item (docs/preprocessing.md).
/// </summary>
public sealed record CropGeometry(int Left, int Top, int Side, int Resolution, int BoxLeft, int BoxTop, int BoxWidth, int BoxHeight, double Ratio);
