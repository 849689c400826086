namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// Binary masks as bytes (0 or non-zero), row-major. Erosion by a k x k square: a pixel stays set when every pixel of the
/// window <c>[x - k/2, x + k - k/2 - 1] x [y - k/2, y + k - k/2 - 1]</c> (integer division) is set, pixels outside the
/// image counting as set. That is <c>scipy.ndimage.binary_erosion(m, np.ones((k, k)), border_value=1)</c> and
/// <c>cv2.erode(m, np.ones((k, k)))</c> with its default border; the anchor for even k (k/2) is the same in both.
/// </summary>
public static class BinaryMorphology
{
    /// <summary>Erodes <paramref name="mask"/> by a <paramref name="size"/> x <paramref name="size"/> square into <paramref name="destination"/> (0/1). O(n) in the mask size whatever k is.</summary>
    public static void ErodeSquare(ReadOnlySpan<byte> mask, int width, int height, int size, Span<byte> destination)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must be positive, got {width}x{height}");
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), $"structuring element size must be >= 1, got {size}");
        int n = width * height;
        if (mask.Length != n || destination.Length != n) throw new ArgumentException($"mask and destination must hold {width}x{height} samples", nameof(mask));
        int before = size / 2, after = size - size / 2 - 1;

        // Separable: a square erosion is a 1-D erosion along x then along y. Each 1-D pass counts unset pixels in the
        // window with a running sum (outside the image contributes none).
        var rows = new byte[n];
        var zeros = new int[Math.Max(width, height) + 1];
        for (int y = 0; y < height; y++)
        {
            var src = mask.Slice(y * width, width);
            var dst = rows.AsSpan(y * width, width);
            ErodeLine(src, 1, width, before, after, zeros, dst, 1);
        }
        var column = new byte[height];
        var columnOut = new byte[height];
        for (int x = 0; x < width; x++)
        {
            for (int y = 0; y < height; y++) column[y] = rows[y * width + x];
            ErodeLine(column, 1, height, before, after, zeros, columnOut, 1);
            for (int y = 0; y < height; y++) destination[y * width + x] = columnOut[y];
        }
    }

    private static void ErodeLine(ReadOnlySpan<byte> src, int stride, int length, int before, int after, int[] prefix, Span<byte> dst, int dstStride)
    {
        prefix[0] = 0;
        for (int i = 0; i < length; i++) prefix[i + 1] = prefix[i] + (src[i * stride] == 0 ? 1 : 0);
        for (int i = 0; i < length; i++)
        {
            int a = Math.Max(i - before, 0), b = Math.Min(i + after, length - 1);
            dst[i * dstStride] = prefix[b + 1] - prefix[a] == 0 ? (byte)1 : (byte)0;
        }
    }

    /// <summary>Fraction of set pixels of <paramref name="mask"/> inside <paramref name="rect"/> (clipped to the image; pixels outside count as unset).</summary>
    public static double Fraction(ReadOnlySpan<byte> mask, int width, int height, PixelRect rect)
    {
        if (mask.Length != width * height) throw new ArgumentException($"mask must hold {width}x{height} samples", nameof(mask));
        if (rect.IsEmpty) return 0;
        var c = rect.ClipTo(width, height);
        long set = 0;
        for (int y = c.Top; y < c.Bottom; y++)
        {
            var row = mask.Slice(y * width + c.Left, c.Width);
            set += row.Length - row.Count((byte)0);
        }
        return (double)set / rect.Area;
    }
}
