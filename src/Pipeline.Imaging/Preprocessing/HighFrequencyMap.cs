using System.Numerics.Tensors;

namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// AnyDoor's high-frequency (detail) map and its collage into the model-space context
/// (docs/preprocessing.md, "High-frequency (detail) map"; docs/reference.md, "High-frequency map": <c>I_hf = (I * K_h + I * K_v) . I . M_erode</c>).
/// </summary>
public static class HighFrequencyMap
{
    /// <summary>Erosion of the reference's support mask: a 3 x 3 square, once, pixels beyond the border counting as unset.</summary>
    public const int SupportErosion = 3;

    /// <summary>
    /// <c>HF = clamp(0.5 (|Gx| + |Gy|), 0, 1) * I * E</c> on an S x S display-space reference crop <paramref name="image"/>,
    /// with E = <paramref name="support"/> eroded by 3 x 3.
    /// </summary>
    public static void Compute(ReadOnlySpan<float> image, ReadOnlySpan<byte> support, int size, Span<float> hf)
    {
        int n = size * size;
        if (image.Length != n || support.Length != n || hf.Length != n)
            throw new ArgumentException($"image, support and output must each hold {size}x{size} samples", nameof(image));
        var gx = new float[n];
        var gy = new float[n];
        Sobel.Gradients(image, size, size, gx, gy);
        var eroded = new byte[n];
        BinaryMorphology.ErodeSquare(support, size, size, SupportErosion, eroded, outsideIsSet: false);

        TensorPrimitives.Abs(gx, gx);
        TensorPrimitives.Abs(gy, gy);
        TensorPrimitives.Add(gx, gy, hf);
        TensorPrimitives.Multiply(hf, 0.5f, hf);
        TensorPrimitives.Min(hf, 1f, hf); // already >= 0
        TensorPrimitives.Multiply(hf, image, hf);
        for (int i = 0; i < n; i++) if (eroded[i] == 0) hf[i] = 0;
    }

    /// <summary>
    /// The collage: HF (S x S, [0, 1]) resized to the model box size by <see cref="Resample.ModelRule"/> (per axis) and placed at the
    /// box in an R x R map, in model space inside the box (<c>2 HF - 1</c>) and 0 outside. An empty box gives all zeros.
    /// </summary>
    public static void Collage(ReadOnlySpan<float> hf, int size, PixelRect modelBox, int resolution, Span<float> collage)
    {
        if (hf.Length != size * size) throw new ArgumentException($"HF map must hold {size}x{size} samples", nameof(hf));
        if (collage.Length != resolution * resolution) throw new ArgumentException($"collage must hold {resolution}x{resolution} samples", nameof(collage));
        collage.Clear();
        var box = modelBox.ClipTo(resolution, resolution);
        if (box.IsEmpty) return;
        var resized = new float[box.Width * box.Height];
        Resample.ResizeByModelRule(hf, size, size, resized, box.Width, box.Height);
        for (int y = 0; y < box.Height; y++)
        {
            var dst = collage.Slice((box.Top + y) * resolution + box.Left, box.Width);
            TensorPrimitives.Multiply(resized.AsSpan(y * box.Width, box.Width), 2f, dst);
            TensorPrimitives.Add(dst, -1f, dst);
        }
    }
}
