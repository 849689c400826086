using Pipeline.Driving.Geometry;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.RangeView;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using RV = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Rendering;

/// <summary>Writes the four pictures of one sample (<see cref="ScenePictures"/>) as PNG files and returns their paths.</summary>
public static class SampleRendering
{
    public static async Task<IReadOnlyList<string>> WriteAsync(DrivingSample sample, string folder, string prefix = "", CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        (byte, byte, byte) ColourOf(SampleObject o) => o.Category.StartsWith("human", StringComparison.Ordinal) ? ScenePictures.PedestrianColour : ScenePictures.CarColour;
        var written = new List<string>();
        async Task Write(string name, RgbCanvas canvas)
        {
            var path = Path.Combine(folder, prefix + name);
            using var image = ImageBuffer.FromSamples<byte>(canvas.Width, canvas.Height, 3, canvas.Pixels);
            await File.WriteAllBytesAsync(path, PngCodec.Encode(image), cancellationToken).ConfigureAwait(false);
            written.Add(path);
        }

        await Write("camera.png", ScenePictures.CameraWithBoxes(sample.CameraRgb, sample.Camera,
            sample.Objects.Select(o => new DrawnBox(sample.InCamera(o.GlobalBox), ColourOf(o))))).ConfigureAwait(false);

        var view = RV.FromPoints(sample.LidarPoints, LidarPointCloud.Stride);
        foreach (var (name, depth) in new[] { ("range-depth.png", true), ("range-intensity.png", false) })
        {
            var canvas = ScenePictures.RangeChannel(view, depth);
            foreach (var o in sample.Objects.Where(o => o.Annotation.NumLidarPts > 0))
            {
                var rb = RangeBox.Project(sample.InLidar(o.GlobalBox), view.Options);
                ScenePictures.RangeBoxOutline(canvas, rb.Columns, rb.Rows, view.Width, 4, ColourOf(o));
            }
            await Write(name, canvas).ConfigureAwait(false);
        }

        var egoPoints = (float[])sample.LidarPoints.Clone();
        sample.LidarCalibration.ToParentInPlace(egoPoints, LidarPointCloud.Stride);
        await Write("bev.png", ScenePictures.BirdsEye(egoPoints, LidarPointCloud.Stride,
            sample.Objects.Select(o => new DrawnBox(o.GlobalBox.ToChild(sample.LidarEgoPose), ColourOf(o))))).ConfigureAwait(false);
        return written;
    }
}
