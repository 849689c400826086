using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Metrics.Report;

namespace Pipeline.Driving.Runs;

/// <summary>
/// What is measured per driving item (docs/driving.md, "Metrics"; MObI §2.5 / thesis-table 2.2), at model resolution
/// around the object, in display space [0, 1]: the camera patch (RGB; the generated crop composited into the original
/// inside m^(C), what the output shows there) for LPIPS, CLIP-I-style embedding similarity against the reference and
/// the FD features; the range patches, depth and intensity, each mapped to [0, 1] and tiled to three channels by the
/// feature network (D-LPIPS, I-LPIPS); mean absolute errors inside the masks; and all of it for the copy&amp;paste
/// baseline (the reference's pixels and points pasted into the box).
/// </summary>
public sealed class DrivingMeasurer : IItemMeasurer
{
    /// <summary>LPIPS on the range view's depth patch (MObI's D-LPIPS), reported as D-LPIPS[network].</summary>
    public const string DepthLpips = "D-LPIPS";

    /// <summary>LPIPS on the range view's intensity patch (MObI's I-LPIPS), reported as I-LPIPS[network].</summary>
    public const string IntensityLpips = "I-LPIPS";

    public MeasuredItem Measure(WorkItem item, TensorBundle prepared, TensorBundle generated, CropGeometry geometry)
    {
        int d = geometry.Resolution, n = d * d;
        var original = prepared.Get(ModelTensorNames.Original, item.ItemId);
        var sample = generated.Get(ModelTensorNames.Sample, item.ItemId);
        var mask = prepared.Get(ModelTensorNames.Mask, item.ItemId);
        var copyPaste = prepared.Get(ModelTensorNames.CopyPaste, item.ItemId);
        var reference = prepared.Get(ModelTensorNames.Reference, item.ItemId);
        if (original.Length != 5 * n || sample.Length != 5 * n || mask.Length != 2 * n)
            throw new InvalidDataException($"item {item.ItemId}: expected 5x{d}x{d} crops and a 2x{d}x{d} mask");
        var composited = new float[5 * n];
        for (int c = 0; c < 5; c++)
        {
            int m = c < 3 ? 0 : 1;
            for (int i = 0; i < n; i++) composited[c * n + i] = mask[m * n + i] > 0 ? sample[c * n + i] : original[c * n + i];
        }
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (method, crop) in new[] { (ComparisonMethod.Model, composited), (ComparisonMethod.CopyPaste, copyPaste) })
        {
            metrics[ComparisonMethod.Key(method, "camera/mae.inside")] = MaeInside(original, crop, mask, 0, 3, 0, n);
            metrics[ComparisonMethod.Key(method, "depth/mae.inside")] = MaeInside(original, crop, mask, 3, 1, 1, n);
            metrics[ComparisonMethod.Key(method, "intensity/mae.inside")] = MaeInside(original, crop, mask, 4, 1, 1, n);
        }
        foreach (var key in metrics.Where(p => !double.IsFinite(p.Value)).Select(p => p.Key).ToList()) metrics.Remove(key);
        int s = (int)Math.Round(Math.Sqrt(reference.Length / 3.0));
        return new MeasuredItem(metrics, Rgb(original, n), Rgb(composited, n), Rgb(reference, s * s))
        {
            CopyPaste = Rgb(copyPaste, n),
            Pairs = new Dictionary<string, PatchPair>(StringComparer.Ordinal)
            {
                [DepthLpips] = new(Plane(original, 3, n), Plane(composited, 3, n), Plane(copyPaste, 3, n)),
                [IntensityLpips] = new(Plane(original, 4, n), Plane(composited, 4, n), Plane(copyPaste, 4, n)),
            },
        };
    }

    /// <summary>Mean |a − b| over the mask's pixels (channels first..first+count, model space halved to [0, 1] units).</summary>
    private static double MaeInside(float[] a, float[] b, float[] mask, int first, int count, int maskPlane, int n)
    {
        double sum = 0; int k = 0;
        for (int i = 0; i < n; i++)
        {
            if (mask[maskPlane * n + i] <= 0) continue;
            for (int c = first; c < first + count; c++) { sum += Math.Abs(a[c * n + i] - b[c * n + i]) / 2; k++; }
        }
        return k == 0 ? double.NaN : sum / k;
    }

    /// <summary>Planar model-space RGB (the first three planes) to interleaved [0, 1].</summary>
    private static float[] Rgb(float[] planar, int n)
    {
        var r = new float[3 * n];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 3; c++) r[3 * i + c] = Math.Clamp((planar[c * n + i] + 1) / 2, 0f, 1f);
        return r;
    }

    private static float[] Plane(float[] planar, int channel, int n)
    {
        var r = new float[n];
        for (int i = 0; i < n; i++) r[i] = Math.Clamp((planar[channel * n + i] + 1) / 2, 0f, 1f);
        return r;
    }
}
