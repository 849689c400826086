using System.Numerics.Tensors;

namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// Display space ([0, 1], after Modality LUT, VOI and MONOCHROME1 inversion) to and from model space ([-1, 1]):
/// <c>m = 2 v - 1</c>, <c>v = clamp((m + 1) / 2, 0, 1)</c> (docs/preprocessing.md, "Values").
/// </summary>
public static class ModelSpace
{
    public static void FromDisplay(ReadOnlySpan<float> display, Span<float> model)
    {
        if (model.Length != display.Length) throw new ArgumentException($"lengths differ: {display.Length} vs {model.Length}", nameof(model));
        TensorPrimitives.Multiply(display, 2f, model);
        TensorPrimitives.Add(model, -1f, model);
    }

    public static void ToDisplay(ReadOnlySpan<float> model, Span<float> display)
    {
        if (model.Length != display.Length) throw new ArgumentException($"lengths differ: {model.Length} vs {display.Length}", nameof(display));
        TensorPrimitives.Add(model, 1f, display);
        TensorPrimitives.Multiply(display, 0.5f, display);
        TensorPrimitives.Max(display, 0f, display);
        TensorPrimitives.Min(display, 1f, display);
    }

    /// <summary>The masked context <c>m (1 - mask)</c>: model-space image with the box region set to 0.</summary>
    public static void MaskedContext(ReadOnlySpan<float> model, ReadOnlySpan<float> mask, Span<float> context)
    {
        if (model.Length != mask.Length || context.Length != model.Length)
            throw new ArgumentException($"image ({model.Length}), mask ({mask.Length}) and context ({context.Length}) must have one length", nameof(mask));
        // context = model - model * mask
        TensorPrimitives.Multiply(model, mask, context);
        TensorPrimitives.Subtract(model, context, context);
    }
}
