using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Mammography;

/// <summary>
/// Measure for mammography: the generated crop against the original target crop in display space [0, 1] (the patch
/// around the object, docs/reference.md "Metrics"), with <see cref="PatchMetrics"/> on the whole patch, inside the box
/// and outside it (outside: how well the tissue around was kept; inside, for reinsertion, how close the regenerated
/// lesion is to the real one). The learned metrics use the same patches and the reference crop.
/// </summary>
public sealed class MammographyMeasurer : IItemMeasurer
{
    public MeasuredItem Measure(WorkItem item, TensorBundle prepared, TensorBundle generated, CropGeometry geometry)
    {
        var original = ToDisplay(prepared.Get(ModelTensorNames.Original, item.ItemId));
        var sample = ToDisplay(generated.Get(ModelTensorNames.Sample, item.ItemId));
        var metrics = PatchMetrics.Compute(original, sample, prepared.Get(ModelTensorNames.Mask, item.ItemId), geometry.Resolution);
        return new MeasuredItem(metrics, original, sample, ToDisplay(prepared.Get(ModelTensorNames.Reference, item.ItemId)));
    }

    private static float[] ToDisplay(float[] model)
    {
        var d = new float[model.Length];
        ModelSpace.ToDisplay(model, d);
        return d;
    }
}
