using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Driving.Compositing;
using Pipeline.Driving.Insertion;
using Pipeline.Driving.NuScenes;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;

namespace Pipeline.Driving.Runs;

/// <summary>
/// Driving outputs (docs/driving.md, "Runs"): per item the composited camera image (PNG: lossless, so pixels beyond the
/// blending margin keep the source's values exactly; runs/{id}/out/images/{item}.png) and lidar sweep
/// ({item}.pcd.bin beside it), composited by <see cref="CameraComposite"/> and <see cref="LidarComposite"/>; for the
/// run, the nuScenes tables of a self-contained dataset rooted at runs/{id}/out/ (<see cref="DrivingOutputDataset"/>).
/// </summary>
public sealed class DrivingComposer(DrivingDatasets datasets) : IItemComposer, IItemPictures
{
    public async Task<IReadOnlyList<ItemPicture>> PicturesAsync(WorkItem item, ItemResult result, IBlobReader blobs, CancellationToken cancellationToken)
    {
        if (result.Output is null) return [];
        var edit = DrivingEdit.Of(item);
        var prefix = DrivingPreparer.DatasetPrefix(item);
        var db = await datasets.TablesAsync(blobs, prefix, edit.Version, cancellationToken).ConfigureAwait(false);
        var frame = await DrivingDatasets.FrameAsync(blobs, prefix, db, edit.Sample, cancellationToken).ConfigureAwait(false);
        var png = await blobs.ReadAsync(result.Output, cancellationToken).ConfigureAwait(false) ?? throw new FileNotFoundException($"{result.Output} is missing");
        var sweepBlob = result.Output[..^ImageExtension.Length] + SweepSuffix;
        var sweep = LidarPointCloud.Decode(await blobs.ReadAsync(sweepBlob, cancellationToken).ConfigureAwait(false) ?? throw new FileNotFoundException($"{sweepBlob} is missing"), sweepBlob);
        using var image = PngCodec.Decode(png, result.Output);
        var colour = item.ClassName == DrivingClasses.Pedestrian ? Rendering.ScenePictures.PedestrianColour : Rendering.ScenePictures.CarColour;
        return Rendering.ItemPictures.Draw(frame, image.Pixels<byte>().ToArray(), sweep, edit.Box, colour).Select(p => new ItemPicture(p.Label, p.Png)).ToList();
    }

    public const string ImageExtension = ".png", SweepSuffix = ".pcd.bin";

    public string OutputExtension(WorkItem item, OutputFormat format) => ImageExtension;

    public async Task<ComposedFile> ComposeAsync(ComposeInput input, IBlobReader blobs, CancellationToken cancellationToken)
    {
        var item = input.Item;
        var edit = DrivingEdit.Of(item);
        var prefix = DrivingPreparer.DatasetPrefix(item);
        var db = await datasets.TablesAsync(blobs, prefix, edit.Version, cancellationToken).ConfigureAwait(false);
        var frame = await DrivingDatasets.FrameAsync(blobs, prefix, db, edit.Sample, cancellationToken).ConfigureAwait(false);
        int d = input.Geometry.Resolution, n = d * d;
        if (input.Sample.Length != InsertionInputs.Channels * n)
            throw new InvalidDataException($"item {item.ItemId}: the sample holds {input.Sample.Length} values; 5x{d}x{d} expected (camera RGB, range depth, intensity)");
        var inputs = InsertionInputs.Create(frame, edit.Box, d);
        var crop = inputs.CameraCrop.Crop;
        var camera = CameraComposite.Paste(frame.CameraRgb, frame.Camera.Width, frame.Camera.Height, crop.Left, crop.Top, crop.Width,
            input.Sample.AsSpan(0, 3 * n), d, inputs.Projection.U, inputs.Projection.V);
        var lidar = LidarComposite.Paste(frame.LidarPoints, inputs.View, inputs.Range, input.Sample.AsSpan(3 * n, n), input.Sample.AsSpan(4 * n, n), inputs.BoxInLidar);
        using var image = ImageBuffer.FromSamples<byte>(frame.Camera.Width, frame.Camera.Height, 3, camera.Rgb);
        return new ComposedFile(PngCodec.Encode(image), "image/png")
        {
            Encoding = "PNG (lossless) camera image; lidar sweep .pcd.bin beside it",
            Sidecars = [new ComposedSidecar(SweepSuffix, LidarPointCloud.Encode(lidar.Points), "application/octet-stream")],
            Metrics = CameraDetail.Measure(frame.CameraRgb, camera.Rgb, frame.Camera.Width, frame.Camera.Height, inputs.Projection.ClippedBounds),
        };
    }

    public async Task<IReadOnlyList<OutputFile>> AnnotationsAsync(IReadOnlyList<WorkItem> planned, IReadOnlyDictionary<string, ItemResult> results,
        IReadOnlyDictionary<string, Lineage> lineages, IBlobReader blobs, CancellationToken cancellationToken)
    {
        var kept = planned.Where(i => results.TryGetValue(i.ItemId, out var r) && r.Outcome != ItemOutcome.Failed && r.Output is not null && lineages.ContainsKey(i.ItemId)).ToList();
        if (planned.Count == 0) return [];
        var first = planned[0];
        var prefix = DrivingPreparer.DatasetPrefix(first);
        var version = DrivingEdit.Of(first).Version;
        var db = await datasets.TablesAsync(blobs, prefix, version, cancellationToken).ConfigureAwait(false);
        var outputs = new List<DrivingOutputItem>();
        foreach (var item in kept)
        {
            var r = results[item.ItemId];
            var outBlob = r.Output!;
            var sweep = await blobs.ReadAsync(outBlob[..^ImageExtension.Length] + SweepSuffix, cancellationToken).ConfigureAwait(false)
                        ?? throw new FileNotFoundException($"item {item.ItemId}: {outBlob[..^ImageExtension.Length] + SweepSuffix} is missing");
            outputs.Add(new DrivingOutputItem(item, DrivingEdit.Of(item), lineages[item.ItemId], LidarPointCloud.Decode(sweep, item.ItemId)));
        }
        var maps = new List<OutputFile>();
        var tables = DrivingOutputDataset.Build(db, outputs, version);
        var files = tables.Select(t => new OutputFile($"{version}/{t.Key}.json", JsonSerializer.SerializeToUtf8Bytes(t.Value, NuScenesTables.Json), "application/json")).ToList();
        foreach (var map in tables.TryGetValue("map", out var m) ? (IEnumerable<object>)m : [])
            if (map is NuMap nm && nm.Filename is { } f && await blobs.ReadAsync(prefix + f, cancellationToken).ConfigureAwait(false) is { } bytes)
                maps.Add(new OutputFile(f, bytes, "image/png"));
        return [.. files, .. maps];
    }
}
