namespace Pipeline.Metrics.Pixel;

/// <summary>
/// The detail measure (docs/metrics.md, "Detail"): how much of the fine detail the untouched source had inside a box the
/// output still has there, at the output's own resolution. With the texture measure's residual
/// <c>e = I - G_sigma(I)</c> (<see cref="TextureMeasure"/>: Gaussian, replicate borders, truncate 4, float64) and
/// <c>rms_in</c> its RMS over the box, <c>detail = ln(max(rms_in(output), floor) / max(rms_in(source), floor))</c>:
/// 0 when the box keeps the source's fine detail, negative when it is smoother (−0.69: half the detail; an object
/// generated at a low resolution and upsampled scores well below 0), positive when it has more. Pure and deterministic.
/// </summary>
public static class DetailMeasure
{
    /// <summary>The detail of <paramref name="output"/> against <paramref name="source"/> (same size, one channel) at
    /// <paramref name="box"/>; null when the box leaves no ring for the texture measure (the box is the whole image).</summary>
    public static double? Compute(ReadOnlySpan<float> output, ReadOnlySpan<float> source, int width, int height, SeamBox box, TextureOptions? options = null)
    {
        options ??= TextureOptions.Default;
        if (output.Length != source.Length)
            throw new ArgumentException($"detail: the output holds {output.Length} samples and the source {source.Length}; they must be the same image size", nameof(output));
        if (TextureMeasure.Compute(output, width, height, box, options) is not { } o || TextureMeasure.Compute(source, width, height, box, options) is not { } s)
            return null;
        return Math.Log(Math.Max(o.InsideRms, options.EnergyFloor) / Math.Max(s.InsideRms, options.EnergyFloor));
    }
}
