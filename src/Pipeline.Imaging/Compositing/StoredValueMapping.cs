namespace Pipeline.Imaging.Compositing;

/// <summary>
/// Maps display values in [0, 1] back to the source's stored pixel values (the inverse of Modality LUT, VOI and
/// MONOCHROME1 inversion). The DICOM side supplies the inverse of its own VOI here; <see cref="LinearStoredRange"/> covers
/// linear windows and plain 8/16-bit images. Must be monotone and pure; called on row-sized spans.
/// </summary>
public delegate void DisplayToStored(ReadOnlySpan<float> display, Span<float> stored);

/// <summary>
/// A linear inverse mapping: display 0 -> <see cref="Low"/>, display 1 -> <see cref="High"/> in stored values
/// (<c>stored = Low + v (High - Low)</c>). Low &gt; High expresses an inverted (MONOCHROME1) or negative-slope mapping.
/// </summary>
public sealed record LinearStoredRange(double Low, double High)
{
    /// <summary>Display = stored / max, e.g. 255 for 8-bit PNG, 65535 for 16-bit PNG.</summary>
    public static LinearStoredRange FullScale(double max) => new(0, max);

    /// <summary>
    /// The inverse of the linear VOI function of DICOM PS3.3 C.11.2.1.2.1: for window centre c and width w the output
    /// <c>((x - (c - 0.5)) / (w - 1) + 0.5)</c> covers [0, 1] for modality values
    /// <c>x in [c - 0.5 - (w - 1)/2, c - 0.5 + (w - 1)/2]</c>; stored values are <c>(x - intercept) / slope</c>
    /// (PS3.3 C.11.1.1.2, Modality LUT); MONOCHROME1 swaps the ends (display = 1 - VOI output).
    /// </summary>
    public static LinearStoredRange FromVoiWindow(double center, double width, double rescaleSlope = 1, double rescaleIntercept = 0, bool monochrome1 = false)
    {
        if (!(width >= 1)) throw new ArgumentOutOfRangeException(nameof(width), $"window width must be >= 1 (PS3.3 C.11.2.1.2), got {width}");
        if (rescaleSlope == 0 || !double.IsFinite(rescaleSlope)) throw new ArgumentOutOfRangeException(nameof(rescaleSlope), $"rescale slope must be finite and non-zero, got {rescaleSlope}");
        double lo = (center - 0.5 - (width - 1) / 2 - rescaleIntercept) / rescaleSlope;
        double hi = (center - 0.5 + (width - 1) / 2 - rescaleIntercept) / rescaleSlope;
        return monochrome1 ? new LinearStoredRange(hi, lo) : new LinearStoredRange(lo, hi);
    }

    public void ToStored(ReadOnlySpan<float> display, Span<float> stored)
    {
        if (stored.Length != display.Length) throw new ArgumentException("lengths differ", nameof(stored));
        float lo = (float)Low, span = (float)(High - Low);
        System.Numerics.Tensors.TensorPrimitives.Multiply(display, span, stored);
        System.Numerics.Tensors.TensorPrimitives.Add(stored, lo, stored);
    }

    public DisplayToStored AsDelegate() => ToStored;
}
