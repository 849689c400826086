namespace Pipeline.Imaging.Synthetic;

/// <summary>Mammographic projection (PS3.16 CID 4014): craniocaudal or mediolateral oblique.</summary>
public enum MammoView { CC, MLO }

/// <summary>Image laterality: left or right breast.</summary>
public enum BreastSide { L, R }

/// <summary>The lesion classes the phantom draws.</summary>
public enum LesionKind { CircumscribedMass, SpiculatedMass, CalcificationCluster, Asymmetry }

/// <summary>A lesion to draw: its kind, its size (longest extent in mm) and a seed for its shape.</summary>
/// <param name="ShapeSeed">Seeds where the lesion is placed and, without <paramref name="AppearanceSeed"/>, how it looks.</param>
/// <param name="AppearanceSeed">When set, the lesion's shape, texture, spiculation or calcification pattern and contrast
/// come from this seed alone, independent of where it is placed: the same appearance seed draws the same lesion
/// (scaled by <see cref="SizeMm"/>) over any tissue, at any position (lesion-transfer training pairs).</param>
/// <param name="ContrastScale">Multiplies the drawn lesion's contrast (an exposure change between two images).</param>
public sealed record LesionSpec(LesionKind Kind, double SizeMm, ulong ShapeSeed, ulong? AppearanceSeed = null, double ContrastScale = 1.0);

/// <summary>An axis-aligned box in pixel-edge coordinates: [XMin, XMax) x [YMin, YMax).</summary>
public readonly record struct PixelBox(double XMin, double YMin, double XMax, double YMax)
{
    public double Width => XMax - XMin;
    public double Height => YMax - YMin;
}

/// <summary>A drawn lesion and where it ended up.</summary>
public sealed record PlacedLesion(LesionKind Kind, PixelBox Box, double Contrast)
{
    /// <summary>The VinDr-Mammo finding category of this kind.</summary>
    public string Category => Kind switch
    {
        LesionKind.CircumscribedMass or LesionKind.SpiculatedMass => "Mass",
        LesionKind.CalcificationCluster => "Suspicious Calcification",
        _ => "Focal Asymmetry",
    };

    /// <summary>The finding's BI-RADS assessment (ACR BI-RADS Atlas, 5th ed.): spiculated masses are highly suggestive.</summary>
    public int Birads => Kind switch
    {
        LesionKind.SpiculatedMass => 5,
        LesionKind.CalcificationCluster => 4,
        _ => 3,
    };
}

/// <summary>
/// Everything that determines one phantom image. <see cref="Density"/> in [0, 1] is the fibroglandular fraction
/// (0.1 almost entirely fatty, BI-RADS density A; 0.8 extremely dense, D).
/// </summary>
public sealed record MammoImageSpec(int Rows, int Columns, double PixelSpacingMm, MammoView View, BreastSide Side, ulong Seed,
    double Density, IReadOnlyList<LesionSpec> Lesions)
{
    /// <summary>BitsStored of the phantom's pixels (typical of FFDM detectors).</summary>
    public const int BitsStored = 14;
}

/// <summary>A rendered phantom: 16-bit stored values (MONOCHROME2, 0 = air and padding) and the lesions drawn.</summary>
public sealed record MammoPhantomImage(MammoImageSpec Spec, ushort[] Pixels, IReadOnlyList<PlacedLesion> Lesions,
    double WindowCenter, double WindowWidth, double WideWindowCenter, double WideWindowWidth);
