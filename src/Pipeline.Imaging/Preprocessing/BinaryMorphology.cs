namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// Binary masks as bytes (0 or non-zero), row-major. Erosion by a k x k square: a pixel stays set when every pixel of the
/// window <c>[x - k/2, x + k - k/2 - 1] x [y - k/2, y + k - k/2 - 1]</c> (integer division) is set. Pixels outside the
/// image count as set by default: <c>scipy.ndimage.binary_erosion(m, np.ones((k, k)), border_value=1)</c> =
/// <c>cv2.erode(m, np.ones((k, k)))</c> with its default border (the anchor for even k, k/2, is the same in both);
/// with <c>outsideIsSet: false</c> they count as unset (scipy's default <c>border_value=0</c>).
/// </summary>
public static class BinaryMorphology
{
    /// <summary>Erodes <paramref name="mask"/> by a <paramref name="size"/> x <paramref name="size"/> square into <paramref name="destination"/> (0/1). O(n) in the mask size whatever k is.</summary>
    public static void ErodeSquare(ReadOnlySpan<byte> mask, int width, int height, int size, Span<byte> destination, bool outsideIsSet = true)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must be positive, got {width}x{height}");
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), $"structuring element size must be >= 1, got {size}");
        int n = width * height;
        if (mask.Length != n || destination.Length != n) throw new ArgumentException($"mask and destination must hold {width}x{height} samples", nameof(mask));
        int before = size / 2, after = size - size / 2 - 1;

        // Separable: a square erosion is a 1-D erosion along x then along y. The x pass counts unset pixels in the window
        // with a prefix sum per row; the y pass slides a per-column count of unset rows down the image, row by row, so
        // both passes read memory sequentially. Outside the image contributes no unset pixels.
        var rows = new byte[n];
        var prefix = new int[width + 1];
        for (int y = 0; y < height; y++)
            ErodeLine(mask.Slice(y * width, width), before, after, prefix, rows.AsSpan(y * width, width), outsideIsSet);

        var unset = new int[width];
        for (int y = 0; y <= Math.Min(after, height - 1); y++) AddRow(unset, rows.AsSpan(y * width, width), +1);
        for (int y = 0; y < height; y++)
        {
            var dst = destination.Slice(y * width, width);
            bool clipped = y - before < 0 || y + after >= height; // the window leaves the image vertically
            if (clipped && !outsideIsSet) dst.Clear();
            else for (int x = 0; x < width; x++) dst[x] = unset[x] == 0 ? (byte)1 : (byte)0;
            int entering = y + 1 + after, leaving = y - before;
            if (entering < height) AddRow(unset, rows.AsSpan(entering * width, width), +1);
            if (leaving >= 0) AddRow(unset, rows.AsSpan(leaving * width, width), -1);
        }
    }

    private static void AddRow(Span<int> unset, ReadOnlySpan<byte> row, int sign)
    {
        for (int x = 0; x < row.Length; x++) unset[x] += sign * (1 - row[x]);
    }

    private static void ErodeLine(ReadOnlySpan<byte> src, int before, int after, Span<int> prefix, Span<byte> dst, bool outsideIsSet)
    {
        int length = src.Length;
        prefix[0] = 0;
        for (int i = 0; i < length; i++) prefix[i + 1] = prefix[i] + (src[i] == 0 ? 1 : 0);
        for (int i = 0; i < length; i++)
        {
            if (!outsideIsSet && (i - before < 0 || i + after >= length)) { dst[i] = 0; continue; }
            int a = Math.Max(i - before, 0), b = Math.Min(i + after, length - 1);
            dst[i] = prefix[b + 1] - prefix[a] == 0 ? (byte)1 : (byte)0;
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
