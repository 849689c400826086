using System.Numerics.Tensors;

namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// 3x3 Sobel gradients by correlation with replicate ("nearest") borders, as <c>scipy.ndimage.sobel(mode="nearest")</c>
/// (axis=1 for Gx, axis=0 for Gy) and cv2.Sobel with BORDER_REPLICATE:
/// <c>Gx = I * [[-1,0,1],[-2,0,2],[-1,0,1]]</c>, <c>Gy = I * [[-1,-2,-1],[0,0,0],[1,2,1]]</c>.
/// Separable: Gx = [-1,0,1] along x of ([1,2,1] along y); Gy = [1,2,1] along x of ([-1,0,1] along y).
/// </summary>
public static class Sobel
{
    public static void Gradients(ReadOnlySpan<float> image, int width, int height, Span<float> gx, Span<float> gy)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must be positive, got {width}x{height}");
        int n = width * height;
        if (image.Length != n) throw new ArgumentException($"image has {image.Length} samples, expected {width}x{height}", nameof(image));
        if (gx.Length != n || gy.Length != n) throw new ArgumentException($"gradient outputs must hold {n} samples", nameof(gx));

        var smooth = new float[width]; // column pass [1,2,1] of rows y-1, y, y+1
        var diff = new float[width];   // column pass [-1,0,1]
        for (int y = 0; y < height; y++)
        {
            var up = image.Slice(Math.Max(y - 1, 0) * width, width);
            var mid = image.Slice(y * width, width);
            var down = image.Slice(Math.Min(y + 1, height - 1) * width, width);
            TensorPrimitives.Add(up, down, smooth);
            TensorPrimitives.MultiplyAdd(mid, 2f, smooth, smooth);
            TensorPrimitives.Subtract(down, up, diff);

            var ox = gx.Slice(y * width, width);
            var oy = gy.Slice(y * width, width);
            if (width == 1)
            {
                ox[0] = 0;
                oy[0] = 4 * diff[0];
                continue;
            }
            // interior: ox[x] = smooth[x+1] - smooth[x-1]; oy[x] = diff[x-1] + 2 diff[x] + diff[x+1]
            int m = width - 2;
            TensorPrimitives.Subtract(smooth.AsSpan(2, m), smooth.AsSpan(0, m), ox.Slice(1, m));
            TensorPrimitives.Add(diff.AsSpan(0, m), diff.AsSpan(2, m), oy.Slice(1, m));
            TensorPrimitives.MultiplyAdd(diff.AsSpan(1, m), 2f, oy.Slice(1, m), oy.Slice(1, m));
            ox[0] = smooth[1] - smooth[0];
            ox[width - 1] = smooth[width - 1] - smooth[width - 2];
            oy[0] = 3 * diff[0] + diff[1];
            oy[width - 1] = diff[width - 2] + 3 * diff[width - 1];
        }
    }
}
