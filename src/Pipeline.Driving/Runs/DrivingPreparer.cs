using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Driving.Insertion;
using Pipeline.Driving.NuScenes;

namespace Pipeline.Driving.Runs;

/// <summary>
/// An item's model inputs (docs/driving.md, "Model inputs"), by the code that prepares the training examples
/// (<see cref="InsertionInputs"/>, <see cref="ReferenceCrop"/>): context and original (camera then range, 5 x D x D),
/// mask (2 x D x D), box (2 x 8 x 3), reference (3 x S x S), and the copy&amp;paste baseline's crop. Refuses, naming the
/// problem: a sample without a lidar (or camera) key frame, a box behind the camera, outside the image or the lidar's
/// range, a reference of another class than the object replaced or inserted.
/// </summary>
public sealed class DrivingPreparer(DrivingDatasets datasets) : IItemPreparer
{
    public async Task<PreparedItem> PrepareAsync(WorkItem item, PreparationSettings preparation, IBlobReader blobs, CancellationToken cancellationToken)
    {
        var edit = DrivingEdit.Of(item);
        var prefix = DatasetPrefix(item);
        var db = await datasets.TablesAsync(blobs, prefix, edit.Version, cancellationToken).ConfigureAwait(false);
        var frame = await DrivingDatasets.FrameAsync(blobs, prefix, db, edit.Sample, cancellationToken).ConfigureAwait(false);
        var inputs = InsertionInputs.Create(frame, edit.Box, preparation.Resolution);
        float[] reference, box = inputs.Box, copyPaste;
        if (edit.Reference is null)
        {
            reference = ReferenceCrop.Empty(preparation.ReferenceSize);
            box = new float[InsertionInputs.BoxValues];
            copyPaste = inputs.Target();
        }
        else
        {
            var refFrame = edit.ReferenceSample == edit.Sample ? frame
                : await DrivingDatasets.FrameAsync(blobs, prefix, db, edit.ReferenceSample ?? throw new InvalidDataException($"reference {edit.Reference}: no sample"), cancellationToken).ConfigureAwait(false);
            var refObject = refFrame.Objects.FirstOrDefault(o => o.Annotation.Token == edit.Reference)
                            ?? throw new InvalidDataException($"reference annotation {edit.Reference} is not an object of sample {refFrame.Sample.Token}");
            var refClass = DrivingClasses.Of(refObject.Category);
            if (refClass != item.ClassName)
                throw new InvalidDataException($"the reference {edit.Reference} is a {refClass ?? refObject.Category}; a {item.Mode.ToString().ToLowerInvariant()} of a {item.ClassName} needs a reference of the same class");
            if (!refObject.Projection.InFront || refObject.Projection.ClippedBounds.IsEmpty)
                throw new InvalidDataException($"the reference {edit.Reference} is not visible in its camera image");
            reference = ReferenceCrop.Extract(refFrame.CameraRgb, refFrame.Camera.Width, refFrame.Camera.Height, refObject.Projection, preparation.ReferenceSize);
            copyPaste = CopyPasteBaseline.Crop(inputs, refFrame, refObject);
        }
        var target = inputs.Target();
        var tensors = new TensorBundle()
            .Add(ModelTensorNames.Context, target).Add(ModelTensorNames.Original, (float[])target.Clone())
            .Add(ModelTensorNames.Mask, inputs.Mask()).Add(ModelTensorNames.Reference, reference).Add(ModelTensorNames.Box, box)
            .Add(ModelTensorNames.CopyPaste, copyPaste);
        var c = inputs.CameraCrop;
        var m = inputs.CameraMask;
        int d = preparation.Resolution, x0 = d, y0 = d, x1 = -1, y1 = -1;
        for (int y = 0; y < d; y++)
            for (int x = 0; x < d; x++)
                if (m[y * d + x] > 0) { x0 = Math.Min(x0, x); y0 = Math.Min(y0, y); x1 = Math.Max(x1, x); y1 = Math.Max(y1, y); }
        var geometry = x1 < 0 ? new CropGeometry(c.Crop.Left, c.Crop.Top, c.Crop.Width, d, 0, 0, 0, 0, 0)
            : new CropGeometry(c.Crop.Left, c.Crop.Top, c.Crop.Width, d, x0, y0, x1 - x0 + 1, y1 - y0 + 1, 0);
        return new PreparedItem(tensors, geometry);
    }

    /// <summary>"datasets/{name}/" of an item (its target image lies in the dataset).</summary>
    public static string DatasetPrefix(WorkItem item)
    {
        var p = item.TargetImage;
        if (!p.StartsWith("datasets/", StringComparison.Ordinal)) throw new InvalidDataException($"item {item.ItemId}: target '{p}' is not a dataset blob");
        int slash = p.IndexOf('/', "datasets/".Length);
        return p[..(slash + 1)];
    }
}
