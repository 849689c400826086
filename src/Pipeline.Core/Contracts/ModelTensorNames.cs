namespace Pipeline.Core.Contracts;

/// <summary>
/// Names of the tensors an item carries in its <see cref="TensorBundle"/>s: a domain's preparation writes the model
/// inputs (runs/{id}/prep/{item}.tensors), the GPU worker writes the sample (runs/{id}/gen/{item}.tensors). All are
/// float32 in model space ([-1, 1]) except the mask (0/1); docs/architecture.md, "The domain seam".
/// </summary>
public static class ModelTensorNames
{
    /// <summary>The masked context: the target crop with the object's region set to 0.</summary>
    public const string Context = "context";
    /// <summary>The object's region in the crop (1 inside).</summary>
    public const string Mask = "mask";
    /// <summary>The reference crop (the object to insert).</summary>
    public const string Reference = "reference";
    /// <summary>The high-frequency detail map collaged into the box.</summary>
    public const string Detail = "detail";
    /// <summary>The unmasked target crop: the paired reference for metrics and the report (not a model input).</summary>
    public const string Original = "original";
    /// <summary>The destination 3D box's corners per modality (modalities x 8 x 3; driving models, docs/model-package.md).</summary>
    public const string Box = "box";
    /// <summary>The generated crop (the GPU worker's output).</summary>
    public const string Sample = "sample";
    /// <summary>The copy&amp;paste baseline's crop: the reference pasted into the box with the run's compositing (not a model input).</summary>
    public const string CopyPaste = "copypaste";
    /// <summary>The compositing alpha at model resolution (1 in the box, feathered over the margin; not a model input, 0..1).</summary>
    public const string CompositeAlpha = "alpha";
    /// <summary>The reference object in its own image, cut like the target crop: a real object of the item's class from
    /// another image (for insertion and replacement), the set FD is measured against (not a model input).</summary>
    public const string RealObject = "real-object";
    /// <summary>The tissue a replacement puts the generated lesion over, when its package takes it from the image itself
    /// (docs/preprocessing.md "Replacement: tissue from the image itself"; not a model input).</summary>
    public const string Tissue = "tissue";
}
