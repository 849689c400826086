using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;

namespace Pipeline.Mammography;

/// <summary>
/// Preprocess for mammography: decodes the target and reference DICOMs and cuts the zoom-in crop, mask, masked
/// context, reference crop and HF collage at the model's resolution (<see cref="ItemImaging.Prepare"/>).
/// </summary>
public sealed class MammographyPreparer : IItemPreparer
{
    public async Task<PreparedItem> PrepareAsync(WorkItem item, PreparationSettings preparation, IBlobReader blobs, CancellationToken cancellationToken)
    {
        using var target = await DecodeAsync(blobs, item.TargetImage, cancellationToken).ConfigureAwait(false);
        using var reference = item.ReferenceImage == item.TargetImage ? null : await DecodeAsync(blobs, item.ReferenceImage, cancellationToken).ConfigureAwait(false);
        return ItemImaging.Prepare(item, target, reference ?? target, preparation);
    }

    private static async Task<SourceImage> DecodeAsync(IBlobReader blobs, string blob, CancellationToken cancellationToken)
    {
        var data = await blobs.ReadAsync(blob, cancellationToken).ConfigureAwait(false) ?? throw new FileNotFoundException($"{blob} does not exist");
        return SourceImage.Decode(data, blob);
    }
}
