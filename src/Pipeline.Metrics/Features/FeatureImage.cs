using Pipeline.Metrics.Pixel;

namespace Pipeline.Metrics.Features;

/// <summary>
/// An image for a feature network: interleaved samples in [0, 1] (1 or 3 channels; grayscale is tiled to three
/// channels, as pytorch-fid users do for grayscale data, pytorch-fid#12), with a name for error messages.
/// </summary>
public readonly record struct FeatureImage(ReadOnlyMemory<float> Pixels, PlaneShape Shape, string Name = "image")
{
    internal void Validate()
    {
        if (Shape.Channels is not (1 or 3))
            throw new ArgumentException($"{Name}: feature networks take 1- or 3-channel images; got {Shape.Channels} channels");
        if (Pixels.Length != Shape.SampleCount)
            throw new ArgumentException($"{Name}: {Pixels.Length} samples for a {Shape} image ({Shape.SampleCount} expected)");
        var s = Pixels.Span;
        for (int i = 0; i < s.Length; i++)
        {
            if (!(s[i] >= 0f && s[i] <= 1f))
                throw new ArgumentException($"{Name}: sample {i} is {s[i]}; feature networks take values in [0, 1] (divide 8-bit data by 255, window DICOM first)");
        }
    }
}

/// <summary>
/// Turns a <see cref="FeatureImage"/> into the network input: bilinear resize as PyTorch's
/// F.interpolate(mode='bilinear', align_corners=False, antialias=False) — source coordinate (dst + 0.5) * in/out - 0.5,
/// clamped at 0 — then [0, 1] mapped onto the descriptor's range, then (x - mean) / std per channel, planar CHW.
/// </summary>
public static class FeatureInputPreparation
{
    public static void Prepare(FeatureImage image, FeatureInputSpec spec, Span<float> chw)
    {
        image.Validate();
        int ow = spec.Width, oh = spec.Height, iw = image.Shape.Width, ih = image.Shape.Height, c = image.Shape.Channels;
        if (chw.Length != 3 * ow * oh) throw new ArgumentException($"input buffer must hold 3x{oh}x{ow} values");
        var src = image.Pixels.Span;
        float sx = (float)iw / ow, sy = (float)ih / oh;
        double lo = spec.Range[0], span = spec.Range[1] - spec.Range[0];
        for (int y = 0; y < oh; y++)
        {
            float fy = Math.Max((y + 0.5f) * sy - 0.5f, 0f);
            int y0 = (int)fy, y1 = y0 < ih - 1 ? y0 + 1 : y0;
            float ly = fy - y0;
            for (int x = 0; x < ow; x++)
            {
                float fx = Math.Max((x + 0.5f) * sx - 0.5f, 0f);
                int x0 = (int)fx, x1 = x0 < iw - 1 ? x0 + 1 : x0;
                float lx = fx - x0;
                for (int ch = 0; ch < 3; ch++)
                {
                    int sc = c == 1 ? 0 : ch;
                    float v = (1 - ly) * ((1 - lx) * src[(y0 * iw + x0) * c + sc] + lx * src[(y0 * iw + x1) * c + sc])
                            + ly * ((1 - lx) * src[(y1 * iw + x0) * c + sc] + lx * src[(y1 * iw + x1) * c + sc]);
                    chw[ch * oh * ow + y * ow + x] = (float)((v * span + lo - spec.Mean[ch]) / spec.Std[ch]);
                }
            }
        }
    }
}
