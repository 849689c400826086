namespace Pipeline.Imaging.Preprocessing;

public sealed record ForegroundMaskOptions
{
    /// <summary>Display-space pixels strictly above this value are tissue candidates. Air in a mammogram displays near 0.</summary>
    public float Threshold { get; init; } = 0.05f;
    public static ForegroundMaskOptions Default { get; } = new();
}

/// <summary>
/// The breast (tissue) mask of a display image in [0, 1]: threshold, keep the largest 8-connected component (drops
/// labels, markers and noise), then fill holes (background regions not 4-connected to the image border), i.e.
/// <c>binary_fill_holes(label(v &gt; t, np.ones((3, 3))) == largest)</c> in scipy.ndimage terms (8-connected foreground,
/// 4-connected background: the usual dual pair). Ties between equally large components go to the first in raster order.
/// </summary>
public static class BreastForegroundMask
{
    public static byte[] Compute(ReadOnlySpan<float> display, int width, int height, ForegroundMaskOptions? options = null)
    {
        var mask = new byte[checked(width * height)];
        Compute(display, width, height, mask, options);
        return mask;
    }

    public static void Compute(ReadOnlySpan<float> display, int width, int height, Span<byte> mask, ForegroundMaskOptions? options = null)
    {
        options ??= ForegroundMaskOptions.Default;
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must be positive, got {width}x{height}");
        int n = width * height;
        if (display.Length != n || mask.Length != n) throw new ArgumentException($"image and mask must hold {width}x{height} samples", nameof(display));

        float t = options.Threshold;
        for (int i = 0; i < n; i++) mask[i] = display[i] > t ? (byte)1 : (byte)0;
        KeepLargestComponent(mask, width, height);
        FillHoles(mask, width, height);
    }

    /// <summary>Keeps only the largest 8-connected component of set pixels (mask values become 0/1).</summary>
    public static void KeepLargestComponent(Span<byte> mask, int width, int height)
    {
        int n = width * height;
        const byte Unvisited = 1, Seen = 2, Keep = 3;
        var stack = new Stack<int>();
        int bestSeed = -1; long bestSize = 0;
        for (int i = 0; i < n; i++)
        {
            if (mask[i] != Unvisited) continue;
            long size = Flood(mask, width, height, i, Unvisited, Seen, eight: true, stack);
            if (size > bestSize) { bestSize = size; bestSeed = i; }
        }
        if (bestSeed >= 0) Flood(mask, width, height, bestSeed, Seen, Keep, eight: true, stack);
        for (int i = 0; i < n; i++) mask[i] = mask[i] == Keep ? (byte)1 : (byte)0;
    }

    /// <summary>Sets every unset pixel that is not 4-connected (through unset pixels) to the image border.</summary>
    public static void FillHoles(Span<byte> mask, int width, int height)
    {
        const byte Background = 0, Outside = 2;
        var stack = new Stack<int>();
        for (int x = 0; x < width; x++)
        {
            if (mask[x] == Background) Flood(mask, width, height, x, Background, Outside, eight: false, stack);
            int b = (height - 1) * width + x;
            if (mask[b] == Background) Flood(mask, width, height, b, Background, Outside, eight: false, stack);
        }
        for (int y = 0; y < height; y++)
        {
            int l = y * width, r = y * width + width - 1;
            if (mask[l] == Background) Flood(mask, width, height, l, Background, Outside, eight: false, stack);
            if (mask[r] == Background) Flood(mask, width, height, r, Background, Outside, eight: false, stack);
        }
        for (int i = 0; i < mask.Length; i++) mask[i] = mask[i] == Outside ? (byte)0 : (byte)1;
    }

    /// <summary>Iterative flood fill (no recursion, so large regions cannot overflow the stack) relabelling <paramref name="from"/> to <paramref name="to"/>.</summary>
    private static long Flood(Span<byte> mask, int width, int height, int seed, byte from, byte to, bool eight, Stack<int> stack)
    {
        long count = 0;
        mask[seed] = to;
        stack.Push(seed);
        while (stack.Count > 0)
        {
            int p = stack.Pop();
            count++;
            int x = p % width, y = p / width;
            for (int dy = -1; dy <= 1; dy++)
            {
                int ny = y + dy;
                if ((uint)ny >= (uint)height) continue;
                for (int dx = -1; dx <= 1; dx++)
                {
                    if (dx == 0 && dy == 0) continue;
                    if (!eight && dx != 0 && dy != 0) continue;
                    int nx = x + dx;
                    if ((uint)nx >= (uint)width) continue;
                    int q = ny * width + nx;
                    if (mask[q] != from) continue;
                    mask[q] = to;
                    stack.Push(q);
                }
            }
        }
        return count;
    }
}
