namespace Pipeline.Metrics.Pixel;

/// <summary>
/// The layout of an image given to a pixel metric: <see cref="Width"/> x <see cref="Height"/> pixels of
/// <see cref="Channels"/> interleaved samples, rows packed (the layout of Pipeline.Imaging's ImageBuffer).
/// A mask for that image is one byte per pixel (not per sample), non-zero meaning inside.
/// </summary>
public readonly record struct PlaneShape(int Width, int Height, int Channels = 1)
{
    /// <summary>Samples in an image of this shape.</summary>
    public int SampleCount => checked(Width * Height * Channels);

    /// <summary>Pixels (mask bytes) in an image of this shape.</summary>
    public int PixelCount => checked(Width * Height);

    /// <summary>Throws when the shape is empty or the spans do not match it.</summary>
    public void Validate(int lengthA, int lengthB, int maskLength, string metric)
    {
        if (Width <= 0 || Height <= 0 || Channels <= 0)
            throw new ArgumentOutOfRangeException(nameof(Width), $"{metric}: image shape {this} must have positive width, height and channels");
        if (lengthA != SampleCount || lengthB != SampleCount)
            throw new ArgumentException($"{metric}: images must both hold {SampleCount} samples for {Width}x{Height}x{Channels}; got {lengthA} and {lengthB}");
        if (maskLength != 0 && maskLength != PixelCount)
            throw new ArgumentException($"{metric}: the mask must hold one byte per pixel ({PixelCount} for {Width}x{Height}); got {maskLength}");
    }

    /// <summary>Throws, naming the sample, when <paramref name="samples"/> holds NaN or an infinity.</summary>
    public static void CheckFinite(ReadOnlySpan<float> samples, string metric, string which)
    {
        // Fast path: a finite sum means every sample is finite (an overflowing sum falls through to the scan).
        if (float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum(samples))) return;
        for (int i = 0; i < samples.Length; i++)
            if (!float.IsFinite(samples[i]))
                throw new ArgumentException($"{metric}: the {which} image holds {samples[i]} at sample {i}; images must be finite");
    }

    public override string ToString() => $"{Width}x{Height}x{Channels}";
}
