using Pipeline.Core.Contracts;

namespace Pipeline.Core.Domains;

/// <summary>An item's model inputs (<see cref="ModelTensorNames"/>) and the crop geometry Compose pastes back with.</summary>
public sealed record PreparedItem(TensorBundle Tensors, CropGeometry Geometry);

/// <summary>
/// How a domain turns an item into model inputs. The same code prepares training examples
/// (`pipeline train-data export`), so a model is trained on exactly what inference gives it.
/// </summary>
public interface IItemPreparer
{
    /// <summary>Reads and decodes the item's images through <paramref name="blobs"/> and prepares its tensors with the
    /// model's <paramref name="preparation"/>. A bad image throws (<see cref="InvalidDataException"/>,
    /// <see cref="FileNotFoundException"/>) naming it: only the item fails.</summary>
    Task<PreparedItem> PrepareAsync(WorkItem item, PreparationSettings preparation, IBlobReader blobs, CancellationToken cancellationToken);
}
