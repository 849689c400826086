using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Metrics.Pixel;
using Pipeline.Metrics.Report;

namespace Pipeline.Mammography;

/// <summary>
/// Measure for mammography, in display space [0, 1] on the patch around the object (docs/reference.md "Metrics"):
/// <list type="bullet">
/// <item><see cref="PatchMetrics"/> of the generated crop against the original target crop, on the whole patch, inside
/// the box and outside it (outside: how well the tissue around was kept; inside, for reinsertion, how close the
/// regenerated lesion is to the real one);</item>
/// <item>the seam measure (docs/metrics.md "Seam") of the composited patch (the generated crop blended into the original
/// with the compositing alpha at model resolution: what the output shows), of the untouched original at the same box
/// ("untouched/seam") and of the copy&amp;paste baseline ("copy&amp;paste/seam");</item>
/// <item><see cref="PatchMetrics"/> of the copy&amp;paste baseline against the original ("copy&amp;paste/ssim", ...).</item>
/// </list>
/// The learned metrics use the composited patch, the copy&amp;paste patch, the reference crop and the reference lesion
/// in its own image.
/// </summary>
public sealed class MammographyMeasurer : IItemMeasurer
{
    public MeasuredItem Measure(WorkItem item, TensorBundle prepared, TensorBundle generated, CropGeometry geometry)
    {
        int r = geometry.Resolution;
        var originalModel = prepared.Get(ModelTensorNames.Original, item.ItemId);
        var original = ToDisplay(originalModel);
        // what the output shows: with the target's texture kept in the box when the item's geometry says so
        var mask = prepared.Get(ModelTensorNames.Mask, item.ItemId);
        var tissue = geometry.TissueDonor ? prepared.Get(ModelTensorNames.Tissue, item.ItemId) : originalModel;
        var sample = ToDisplay(ItemImaging.KeptSample(generated.Get(ModelTensorNames.Sample, item.ItemId), tissue, mask, geometry));
        var alpha = prepared.Get(ModelTensorNames.CompositeAlpha, item.ItemId);
        var copyPaste = ToDisplay(prepared.Get(ModelTensorNames.CopyPaste, item.ItemId));
        var composited = new float[original.Length];
        // a convex combination of two [0, 1] patches; the clamp only removes float rounding (an alpha a few ulp above 1 from
        // the feathering gave 1.0000001, which the feature networks refuse)
        for (int i = 0; i < composited.Length; i++) composited[i] = Math.Clamp(original[i] + alpha[i] * (sample[i] - original[i]), 0f, 1f);
        var metrics = new SortedDictionary<string, double>(PatchMetrics.Compute(original, sample, mask, r).ToDictionary(), StringComparer.Ordinal);
        foreach (var (key, value) in PatchMetrics.Compute(original, copyPaste, mask, r))
            metrics[ComparisonMethod.Key(ComparisonMethod.CopyPaste, key)] = value;
        var box = new SeamBox(geometry.BoxLeft, geometry.BoxTop, geometry.BoxWidth, geometry.BoxHeight);
        foreach (var (method, patch) in new[] { (ComparisonMethod.Model, composited), (ComparisonMethod.CopyPaste, copyPaste), (ComparisonMethod.Untouched, original) })
            if (SeamMeasure.Compute(patch, r, r, box) is { } seam)
                metrics[ComparisonMethod.Key(method, "seam")] = seam.Seam;
        // An identical patch has an infinite PSNR (a reinsertion's baseline pastes the lesion onto itself); it is left
        // out, as PatchMetrics leaves out infinite region PSNRs: item results hold finite numbers only.
        foreach (var key in metrics.Where(p => !double.IsFinite(p.Value)).Select(p => p.Key).ToList()) metrics.Remove(key);
        return new MeasuredItem(metrics, original, composited, ToDisplay(prepared.Get(ModelTensorNames.Reference, item.ItemId)))
        {
            CopyPaste = copyPaste,
            RealObject = ToDisplay(prepared.Get(ModelTensorNames.RealObject, item.ItemId)),
        };
    }

    private static float[] ToDisplay(float[] model)
    {
        var d = new float[model.Length];
        ModelSpace.ToDisplay(model, d);
        return d;
    }
}
