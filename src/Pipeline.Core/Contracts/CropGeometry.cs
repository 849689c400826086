namespace Pipeline.Core.Contracts;

/// <summary>
/// Geometry of one item's square crop, kept from Preprocess to Compose, Measure and the report: the crop in source
/// pixels (<see cref="Left"/>, <see cref="Top"/>, <see cref="Side"/>), the model resolution it was resampled to, the
/// object's box in model pixels, the crop ratio drawn for the item (docs/preprocessing.md), and
/// <see cref="TextureSigma"/>: when positive (insertion items of a package that asks for it), Compose and Measure keep
/// the target's own tissue under the generated lesion (what the model generated above its own background, estimated
/// from the band inside the box edge with a Gaussian of that many model pixels, added to the target;
/// docs/preprocessing.md "Keeping the target's tissue"); 0 when the sample is
/// composited as generated. <see cref="KeepDetail"/>: Compose adds the target's full-resolution band the crop's
/// resampling removes (insertion and reinsertion items of such a package: the box holds the tissue, or the lesion itself).
/// <see cref="TissueDonor"/>: the box's tissue (and its full-resolution band) is not the target's own but the donor
/// window's, the box shifted by (<see cref="DonorOffsetX"/>, <see cref="DonorOffsetY"/>) source pixels, matched to the
/// target along the box's border (replacement items of a package that asks for it: the box holds the old lesion;
/// docs/preprocessing.md "Replacement: tissue from the image itself").
/// </summary>
public sealed record CropGeometry(int Left, int Top, int Side, int Resolution, int BoxLeft, int BoxTop, int BoxWidth, int BoxHeight, double Ratio,
    double TextureSigma = 0, bool KeepDetail = false, bool TissueDonor = false, int DonorOffsetX = 0, int DonorOffsetY = 0);
