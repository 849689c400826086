namespace Pipeline.Metrics.Pixel;

/// <summary>Settings of <see cref="SeamMeasure"/> (docs/metrics.md, "Seam").</summary>
/// <param name="BandWidth">Width w in pixels of the bands compared on either side of a box edge.</param>
/// <param name="CornerFraction">Length of each compared segment as a fraction f of its side, measured from the corner.</param>
/// <param name="RingWidth">Width R in pixels of the ring outside the box whose standard deviation is the local contrast.</param>
/// <param name="ContrastFloor">Lowest local contrast divided by (display units), so a flat background gives a finite value.</param>
public sealed record SeamOptions(int BandWidth = 2, double CornerFraction = 0.25, int RingWidth = 6, double ContrastFloor = 1.0 / 255)
{
    public static SeamOptions Default { get; } = new();

    public void Validate()
    {
        if (BandWidth < 1) throw new ArgumentOutOfRangeException(nameof(BandWidth), $"seam: band width must be >= 1 px, got {BandWidth}");
        if (!(CornerFraction > 0 && CornerFraction <= 0.5)) throw new ArgumentOutOfRangeException(nameof(CornerFraction), $"seam: corner fraction must be in (0, 0.5], got {CornerFraction}");
        if (RingWidth < 1) throw new ArgumentOutOfRangeException(nameof(RingWidth), $"seam: ring width must be >= 1 px, got {RingWidth}");
        if (!(ContrastFloor > 0) || !double.IsFinite(ContrastFloor)) throw new ArgumentOutOfRangeException(nameof(ContrastFloor), $"seam: contrast floor must be finite and > 0, got {ContrastFloor}");
    }
}

/// <summary>An integer box [Left, Left + Width) x [Top, Top + Height) in the measured image's pixels.</summary>
public readonly record struct SeamBox(int Left, int Top, int Width, int Height)
{
    public int Right => Left + Width;
    public int Bottom => Top + Height;
}

/// <summary>A seam value and its parts.</summary>
/// <param name="Seam">RMS step over the measured segments divided by the local contrast (dimensionless).</param>
/// <param name="StepRms">RMS of the segment steps (display units).</param>
/// <param name="LocalContrast">Population standard deviation of the ring outside the box (display units, before the floor).</param>
/// <param name="Segments">How many of the 8 corner segments were measured (a side whose outer band leaves the image is skipped).</param>
public readonly record struct SeamResult(double Seam, double StepRms, double LocalContrast, int Segments);

/// <summary>
/// The seam measure (docs/metrics.md, "Seam"): how strongly the border of an edited box shows a straight intensity step,
/// as a pasted square does. For each side of the box and each of its two ends, the segment of length
/// <c>L = max(1, round(f side))</c> that starts at the corner is taken (near the corners a roundish lesion has given way to
/// tissue, so a step there is the background's, not the lesion's edge); its step is the mean of the w-pixel band just
/// inside the edge minus the mean of the w-pixel band just outside. Averaging along the segment cancels texture and
/// keeps what is straight and coherent. The RMS of the steps is divided by the local contrast: the population standard
/// deviation of the pixels within R pixels outside the box (Chebyshev distance), floored. A hard paste of a crop whose
/// background differs from the tissue scores its background offset in units of the tissue's contrast; untouched tissue
/// and a lesion that blends score the texture's residual, well below 1 on the phantom.
/// Pure and deterministic; float64 sums in a fixed order.
/// </summary>
public static class SeamMeasure
{
    /// <summary>The seam of one single-channel image (e.g. display values in [0, 1]) at <paramref name="box"/>; null when
    /// no segment can be measured (every side's outer band leaves the image).</summary>
    public static SeamResult? Compute(ReadOnlySpan<float> image, int width, int height, SeamBox box, SeamOptions? options = null)
    {
        options ??= SeamOptions.Default;
        options.Validate();
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"seam: image size must be positive, got {width}x{height}");
        if (image.Length != width * height) throw new ArgumentException($"seam: the image must hold {width * height} samples for {width}x{height}; got {image.Length}", nameof(image));
        if (box.Width < 1 || box.Height < 1 || box.Left < 0 || box.Top < 0 || box.Right > width || box.Bottom > height)
            throw new ArgumentOutOfRangeException(nameof(box), $"seam: box {box} must be non-empty and inside the {width}x{height} image");
        PlaneShape.CheckFinite(image, "seam", "measured");

        int w = options.BandWidth;
        int lx = Math.Max(1, (int)Math.Round(options.CornerFraction * box.Width, MidpointRounding.AwayFromZero));
        int ly = Math.Max(1, (int)Math.Round(options.CornerFraction * box.Height, MidpointRounding.AwayFromZero));
        double sumSq = 0;
        int segments = 0;
        // Sides in a fixed order: top, bottom, left, right; each with its start and end segment.
        if (box.Top - w >= 0)
        {
            Add(RectMean(image, width, box.Left, box.Top, lx, w) - RectMean(image, width, box.Left, box.Top - w, lx, w));
            Add(RectMean(image, width, box.Right - lx, box.Top, lx, w) - RectMean(image, width, box.Right - lx, box.Top - w, lx, w));
        }
        if (box.Bottom + w <= height)
        {
            Add(RectMean(image, width, box.Left, box.Bottom - w, lx, w) - RectMean(image, width, box.Left, box.Bottom, lx, w));
            Add(RectMean(image, width, box.Right - lx, box.Bottom - w, lx, w) - RectMean(image, width, box.Right - lx, box.Bottom, lx, w));
        }
        if (box.Left - w >= 0)
        {
            Add(RectMean(image, width, box.Left, box.Top, w, ly) - RectMean(image, width, box.Left - w, box.Top, w, ly));
            Add(RectMean(image, width, box.Left, box.Bottom - ly, w, ly) - RectMean(image, width, box.Left - w, box.Bottom - ly, w, ly));
        }
        if (box.Right + w <= width)
        {
            Add(RectMean(image, width, box.Right - w, box.Top, w, ly) - RectMean(image, width, box.Right, box.Top, w, ly));
            Add(RectMean(image, width, box.Right - w, box.Bottom - ly, w, ly) - RectMean(image, width, box.Right, box.Bottom - ly, w, ly));
        }
        if (segments == 0) return null;

        double contrast = RingStd(image, width, height, box, options.RingWidth);
        double stepRms = Math.Sqrt(sumSq / segments);
        return new SeamResult(stepRms / Math.Max(contrast, options.ContrastFloor), stepRms, contrast, segments);

        void Add(double step) { sumSq += step * step; segments++; }
    }

    /// <summary>Mean of a rectangle of pixels (the caller keeps it inside the image; bands of inside and outside may overlap
    /// the opposite side's when the box is narrower than 2 w, which is part of the definition).</summary>
    private static double RectMean(ReadOnlySpan<float> image, int stride, int left, int top, int width, int height)
    {
        double sum = 0;
        for (int y = top; y < top + height; y++)
        {
            var row = image.Slice(y * stride + left, width);
            for (int x = 0; x < row.Length; x++) sum += row[x];
        }
        return sum / ((double)width * height);
    }

    /// <summary>Population standard deviation (two-pass) of the pixels of the box grown by <paramref name="ring"/> (clipped
    /// to the image) that are not in the box; 0 when there are none.</summary>
    private static double RingStd(ReadOnlySpan<float> image, int width, int height, SeamBox box, int ring)
    {
        int x0 = Math.Max(0, box.Left - ring), y0 = Math.Max(0, box.Top - ring);
        int x1 = Math.Min(width, box.Right + ring), y1 = Math.Min(height, box.Bottom + ring);
        double sum = 0;
        long n = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                if (x >= box.Left && x < box.Right && y >= box.Top && y < box.Bottom) continue;
                sum += image[y * width + x];
                n++;
            }
        if (n == 0) return 0;
        double mean = sum / n, ss = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                if (x >= box.Left && x < box.Right && y >= box.Top && y < box.Bottom) continue;
                double d = image[y * width + x] - mean;
                ss += d * d;
            }
        return Math.Sqrt(ss / n);
    }
}
