namespace Pipeline.Driving.RangeView;

/// <summary>
/// The range image's resize rule (MObI's public implementation; thesis §2.3.2 "average pooling when downsizing"):
/// decided per axis, average pooling when the axis shrinks by an integer factor, otherwise nearest neighbour
/// (source index floor(i · src / dst), as torch's "nearest"). One plane, row-major.
/// </summary>
public static class RangeResize
{
    public static void Resize(ReadOnlySpan<float> source, int srcWidth, int srcHeight, Span<float> destination, int dstWidth, int dstHeight)
    {
        if (source.Length != srcWidth * srcHeight) throw new ArgumentException($"source must hold {srcWidth}x{srcHeight} samples, got {source.Length}", nameof(source));
        if (destination.Length != dstWidth * dstHeight) throw new ArgumentException($"destination must hold {dstWidth}x{dstHeight} samples, got {destination.Length}", nameof(destination));
        var (fx, cols) = Axis(srcWidth, dstWidth);
        var (fy, rows) = Axis(srcHeight, dstHeight);
        double inv = 1.0 / (fx * fy);
        for (int y = 0; y < dstHeight; y++)
        {
            int r0 = rows[y];
            var dst = destination.Slice(y * dstWidth, dstWidth);
            if (fy == 1 && y > 0 && rows[y - 1] == r0)
            {
                // nearest neighbour repeats a source row: the output row is the previous one again
                destination.Slice((y - 1) * dstWidth, dstWidth).CopyTo(dst);
                continue;
            }
            if (fx == 1 && fy == 1)
            {
                var src = source.Slice(r0 * srcWidth, srcWidth);
                for (int x = 0; x < dstWidth; x++) dst[x] = src[cols[x]];
                continue;
            }
            for (int x = 0; x < dstWidth; x++)
            {
                int c0 = cols[x];
                double sum = 0; // double: pooled copies of one value come back as that value
                for (int dy = 0; dy < fy; dy++)
                {
                    var src = source.Slice((r0 + dy) * srcWidth + c0, fx);
                    for (int dx = 0; dx < fx; dx++) sum += src[dx];
                }
                dst[x] = (float)(sum * inv);
            }
        }
    }

    /// <summary>The pooling factor (1 for nearest) and each output's first source index.</summary>
    public static (int Factor, int[] Starts) Axis(int src, int dst)
    {
        if (src <= 0 || dst <= 0) throw new ArgumentOutOfRangeException(nameof(src), $"sizes must be positive: {src} -> {dst}");
        var starts = new int[dst];
        if (src > dst && src % dst == 0)
        {
            int f = src / dst;
            for (int i = 0; i < dst; i++) starts[i] = i * f;
            return (f, starts);
        }
        for (int i = 0; i < dst; i++) starts[i] = Math.Min(src - 1, (int)((long)i * src / dst));
        return (1, starts);
    }
}
