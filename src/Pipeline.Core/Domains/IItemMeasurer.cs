using Pipeline.Core.Contracts;

namespace Pipeline.Core.Domains;

/// <summary>
/// What a domain measured for one item: the per-item metric values (key = reported name, e.g. "ssim.outside"), and
/// the patches the learned metrics (LPIPS, embedding similarity, FD/KID features) are computed on, in display space
/// [0, 1]: the original and generated patch (Geometry.Resolution squared) and the reference crop (square).
/// </summary>
/// <remarks><see cref="CopyPaste"/>: the copy&amp;paste baseline's patch, measured like the result (keys prefixed
/// "copy&amp;paste/"); <see cref="RealObject"/>: the reference object in its own image, cut like the patch (the "real
/// lesions" set of FD). Both null when the domain has none.</remarks>
public sealed record MeasuredItem(IReadOnlyDictionary<string, double> Metrics, float[] Original, float[] Generated, float[] Reference)
{
    public float[]? CopyPaste { get; init; }
    public float[]? RealObject { get; init; }
    /// <summary>Further single-channel patch pairs (display space, resolution squared) LPIPS is computed on, keyed by the
    /// name LPIPS is reported under for them (driving: "D-LPIPS" and "I-LPIPS", the thesis's LPIPS on the range view's
    /// depth and intensity patches, reported as D-LPIPS[network] and I-LPIPS[network]).</summary>
    public IReadOnlyDictionary<string, PatchPair> Pairs { get; init; } = new Dictionary<string, PatchPair>();
}

/// <summary>An original and a generated patch (and the copy&amp;paste baseline's, when the domain has one).</summary>
public sealed record PatchPair(float[] Original, float[] Generated, float[]? CopyPaste = null);

/// <summary>What a domain measures per item, from the item's prepared inputs and the generated sample.</summary>
public interface IItemMeasurer
{
    MeasuredItem Measure(WorkItem item, TensorBundle prepared, TensorBundle generated, CropGeometry geometry);
}
