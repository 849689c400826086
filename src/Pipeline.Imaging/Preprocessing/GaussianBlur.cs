using System.Numerics.Tensors;

namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// Separable Gaussian smoothing with replicate borders, as <c>scipy.ndimage.gaussian_filter(img, sigma, mode="nearest",
/// truncate=4.0)</c>: kernel radius <c>int(truncate sigma + 0.5)</c>, weights <c>exp(-x^2 / (2 sigma^2))</c> normalised to
/// sum 1, applied along y (axis 0) then x (axis 1) like scipy. Rows are combined with vectorised multiply-adds.
/// </summary>
public static class GaussianBlur
{
    public static float[] Kernel(double sigma, double truncate = 4.0)
    {
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), $"sigma must be positive and finite, got {sigma}");
        if (!(truncate > 0) || !double.IsFinite(truncate)) throw new ArgumentOutOfRangeException(nameof(truncate), $"truncate must be positive, got {truncate}");
        int radius = (int)(truncate * sigma + 0.5);
        var w = new double[2 * radius + 1];
        double sum = 0;
        for (int k = -radius; k <= radius; k++) sum += w[k + radius] = Math.Exp(-0.5 * k * k / (sigma * sigma));
        return w.Select(v => (float)(v / sum)).ToArray();
    }

    public static void Apply(ReadOnlySpan<float> image, int width, int height, double sigma, Span<float> destination, double truncate = 4.0)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must be positive, got {width}x{height}");
        int n = width * height;
        if (image.Length != n || destination.Length != n) throw new ArgumentException($"image and destination must hold {width}x{height} samples", nameof(image));
        var kernel = Kernel(sigma, truncate);
        int radius = kernel.Length / 2;

        var vertical = new float[n];
        for (int y = 0; y < height; y++)
        {
            var d = vertical.AsSpan(y * width, width);
            d.Clear();
            for (int k = -radius; k <= radius; k++)
                TensorPrimitives.MultiplyAdd(image.Slice(Math.Clamp(y + k, 0, height - 1) * width, width), kernel[k + radius], d, d);
        }
        var padded = new float[width + 2 * radius];
        for (int y = 0; y < height; y++)
        {
            var row = vertical.AsSpan(y * width, width);
            padded.AsSpan(0, radius).Fill(row[0]);
            row.CopyTo(padded.AsSpan(radius));
            padded.AsSpan(radius + width).Fill(row[width - 1]);
            var d = destination.Slice(y * width, width);
            for (int x = 0; x < width; x++) d[x] = TensorPrimitives.Dot(padded.AsSpan(x, kernel.Length), kernel);
        }
    }
}
