using Pipeline.Core.Contracts;

namespace Pipeline.Core.Domains;

/// <summary>The shapes the model package asks for (model.json): the square model resolution and the reference crop side.</summary>
public sealed record ModelInputShape(int Resolution, int ReferenceSize);

/// <summary>An item's model inputs (<see cref="ModelTensorNames"/>) and the crop geometry Compose pastes back with.</summary>
public sealed record PreparedItem(TensorBundle Tensors, CropGeometry Geometry);

/// <summary>How a domain turns an item into model inputs (the same code prepares training examples).</summary>
public interface IItemPreparer
{
    /// <summary>Reads and decodes the item's images through <paramref name="blobs"/> and prepares its tensors. A bad image
    /// throws (<see cref="InvalidDataException"/>, <see cref="FileNotFoundException"/>) naming it: only the item fails.</summary>
    Task<PreparedItem> PrepareAsync(WorkItem item, ModelInputShape shape, IBlobReader blobs, CancellationToken cancellationToken);
}
