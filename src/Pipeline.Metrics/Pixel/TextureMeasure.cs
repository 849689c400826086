namespace Pipeline.Metrics.Pixel;

/// <summary>Settings of <see cref="TextureMeasure"/> (docs/metrics.md, "Texture").</summary>
/// <param name="Sigma">Gaussian sigma in pixels of the low-pass whose residual is the fine texture.</param>
/// <param name="RingWidth">Width R in pixels of the ring outside the box the box's texture is compared with.</param>
/// <param name="EnergyFloor">Lowest RMS residual used in the ratio (image units), so a flat region gives a finite value.</param>
public sealed record TextureOptions(double Sigma = 1.5, int RingWidth = 8, double EnergyFloor = 1e-6)
{
    public static TextureOptions Default { get; } = new();

    /// <summary>Kernel radius: int(4 sigma + 0.5), as scipy.ndimage.gaussian_filter with truncate 4.</summary>
    public int Radius => (int)(4 * Sigma + 0.5);

    public void Validate()
    {
        if (!(Sigma > 0) || !double.IsFinite(Sigma)) throw new ArgumentOutOfRangeException(nameof(Sigma), $"texture: sigma must be finite and > 0, got {Sigma}");
        if (RingWidth < 1) throw new ArgumentOutOfRangeException(nameof(RingWidth), $"texture: ring width must be >= 1 px, got {RingWidth}");
        if (!(EnergyFloor > 0) || !double.IsFinite(EnergyFloor)) throw new ArgumentOutOfRangeException(nameof(EnergyFloor), $"texture: energy floor must be finite and > 0, got {EnergyFloor}");
    }
}

/// <summary>A texture value and its parts.</summary>
/// <param name="Texture">|ln(inside RMS / ring RMS)| (dimensionless; 0: the box has the fine texture of its surroundings).</param>
/// <param name="InsideRms">RMS of the fine-texture residual inside the box (image units).</param>
/// <param name="RingRms">RMS of the residual in the ring outside the box (image units).</param>
public readonly record struct TextureResult(double Texture, double InsideRms, double RingRms);

/// <summary>
/// The texture measure (docs/metrics.md, "Texture"): whether an edited box carries the fine texture of the tissue around
/// it, measured at the output's own resolution. A box generated at a lower resolution and upsampled, or filled with a
/// smooth estimate of the tissue, looks like a smooth square at normal viewing contrast even where its border has no
/// step (which <see cref="SeamMeasure"/> would see). The residual <c>e = I - G_sigma(I)</c> (Gaussian, replicate
/// borders, truncate 4, float64) is compared inside the box and in the ring of pixels within Chebyshev distance R
/// outside it (clipped to the image): <c>texture = |ln(max(rms_in, floor) / max(rms_ring, floor))|</c>. Only the
/// window of the box grown by R + the kernel radius is filtered, which gives the whole-image filter's values on box and
/// ring. Pure and deterministic.
/// </summary>
public static class TextureMeasure
{
    /// <summary>The texture of a single-channel image at <paramref name="box"/>; null when the ring is empty.</summary>
    public static TextureResult? Compute(ReadOnlySpan<float> image, int width, int height, SeamBox box, TextureOptions? options = null)
    {
        options ??= TextureOptions.Default;
        options.Validate();
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"texture: image size must be positive, got {width}x{height}");
        if (image.Length != width * height) throw new ArgumentException($"texture: the image must hold {width * height} samples for {width}x{height}; got {image.Length}", nameof(image));
        if (box.Width < 1 || box.Height < 1 || box.Left < 0 || box.Top < 0 || box.Right > width || box.Bottom > height)
            throw new ArgumentOutOfRangeException(nameof(box), $"texture: box {box} must be non-empty and inside the {width}x{height} image");
        int ring = options.RingWidth, pad = ring + options.Radius;
        int x0 = Math.Max(0, box.Left - pad), y0 = Math.Max(0, box.Top - pad);
        int x1 = Math.Min(width, box.Right + pad), y1 = Math.Min(height, box.Bottom + pad);
        int ww = x1 - x0, wh = y1 - y0;
        var window = new double[ww * wh];
        for (int y = 0; y < wh; y++)
            for (int x = 0; x < ww; x++)
            {
                float v = image[(y0 + y) * width + x0 + x];
                if (!float.IsFinite(v)) throw new ArgumentException($"texture: the measured image has a non-finite value at ({x0 + x}, {y0 + y})", nameof(image));
                window[y * ww + x] = v;
            }
        // A window edge inside the image is at least `radius` pixels from every box and ring pixel, so replicate padding
        // there does not reach them; at the image's own edge it is the image's replicate border.
        var low = Blur(window, ww, wh, options.Sigma, options.Radius);
        double inside = 0, around = 0;
        long nInside = 0, nAround = 0;
        int rx0 = Math.Max(0, box.Left - ring), ry0 = Math.Max(0, box.Top - ring);
        int rx1 = Math.Min(width, box.Right + ring), ry1 = Math.Min(height, box.Bottom + ring);
        for (int y = ry0; y < ry1; y++)
            for (int x = rx0; x < rx1; x++)
            {
                int i = (y - y0) * ww + x - x0;
                double e = window[i] - low[i];
                bool inBox = x >= box.Left && x < box.Right && y >= box.Top && y < box.Bottom;
                if (inBox) { inside += e * e; nInside++; }
                else { around += e * e; nAround++; }
            }
        if (nAround == 0) return null;
        double rmsIn = Math.Sqrt(inside / nInside), rmsRing = Math.Sqrt(around / nAround);
        double texture = Math.Abs(Math.Log(Math.Max(rmsIn, options.EnergyFloor) / Math.Max(rmsRing, options.EnergyFloor)));
        return new TextureResult(texture, rmsIn, rmsRing);
    }

    /// <summary>Separable Gaussian (weights exp(-k^2 / (2 sigma^2)) normalised, replicate borders), along y then x.</summary>
    private static double[] Blur(double[] image, int width, int height, double sigma, int radius)
    {
        var k = new double[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) sum += k[i + radius] = Math.Exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < k.Length; i++) k[i] /= sum;
        var vertical = new double[image.Length];
        for (int y = 0; y < height; y++)
            for (int j = -radius; j <= radius; j++)
            {
                int row = Math.Clamp(y + j, 0, height - 1) * width;
                double w = k[j + radius];
                for (int x = 0; x < width; x++) vertical[y * width + x] += w * image[row + x];
            }
        var result = new double[image.Length];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double acc = 0;
                for (int j = -radius; j <= radius; j++) acc += k[j + radius] * vertical[y * width + Math.Clamp(x + j, 0, width - 1)];
                result[y * width + x] = acc;
            }
        return result;
    }
}
