using Pipeline.Driving.Geometry;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.RangeView;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using RV = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Rendering;

/// <summary>
/// The report's pictures of one driving item (docs/driving.md, "Report"): the camera around the box before and after
/// (box drawn), the object-centric range view (depth and intensity, rows x4) before and after with the box outline, and
/// a bird's-eye view of the composited sweep with the box.
/// </summary>
public static class ItemPictures
{
    public static IReadOnlyList<(string Label, byte[] Png)> Draw(DrivingSample source, byte[] editedRgb, float[] editedSweep, Box3 globalBox, (byte, byte, byte) colour)
    {
        var result = new List<(string, byte[])>();
        var inCamera = source.InCamera(globalBox);
        var projection = Camera.BoxProjection.Project(inCamera, source.Camera);
        var b = projection.ClippedBounds;
        double pad = Math.Max(b.Width, b.Height) * 0.6 + 8;
        int x0 = (int)Math.Max(0, b.X0 - pad), y0 = (int)Math.Max(0, b.Y0 - pad);
        int x1 = (int)Math.Min(source.Camera.Width, b.X1 + pad), y1 = (int)Math.Min(source.Camera.Height, b.Y1 + pad);
        foreach (var (label, rgb) in new[] { ("camera before", source.CameraRgb), ("camera after", editedRgb) })
        {
            var canvas = ScenePictures.CameraWithBoxes(rgb, source.Camera, [new DrawnBox(inCamera, colour)]);
            result.Add((label, Png(Crop(canvas, x0, y0, x1 - x0, y1 - y0, 2))));
        }
        var before = RV.FromPoints(source.LidarPoints, LidarPointCloud.Stride);
        var after = RV.FromPoints(editedSweep, LidarPointCloud.Stride);
        var box = RangeBox.Project(source.InLidar(globalBox), before.Options);
        var crop = RangeCrop.Plan(box, before.Height);
        foreach (var (label, view, depth) in new[] { ("range depth before", before, true), ("range depth after", after, true), ("range intensity before", before, false), ("range intensity after", after, false) })
        {
            var canvas = ScenePictures.RangeChannel(view, depth);
            ScenePictures.RangeBoxOutline(canvas, box.Columns, box.Rows, view.Width, 4, colour);
            var part = new RgbCanvas(crop.CropWidth, canvas.Height);
            for (int y = 0; y < canvas.Height; y++)
                for (int c = 0; c < crop.CropWidth; c++)
                {
                    int v = crop.ViewColumn(c);
                    for (int k = 0; k < 3; k++) part.Pixels[(y * crop.CropWidth + c) * 3 + k] = canvas.Pixels[(y * canvas.Width + v) * 3 + k];
                }
            result.Add((label, Png(Scale(part, 3))));
        }
        var ego = (float[])editedSweep.Clone();
        source.LidarCalibration.ToParentInPlace(ego, LidarPointCloud.Stride);
        result.Add(("bird's-eye view after", Png(ScenePictures.BirdsEye(ego, LidarPointCloud.Stride, [new DrawnBox(globalBox.ToChild(source.LidarEgoPose), colour)], range: 30, size: 360))));
        return result;
    }

    private static RgbCanvas Crop(RgbCanvas c, int x0, int y0, int w, int h, int scale)
    {
        var r = new RgbCanvas(w * scale, h * scale);
        for (int y = 0; y < h * scale; y++)
            for (int x = 0; x < w * scale; x++)
                for (int k = 0; k < 3; k++) r.Pixels[(y * w * scale + x) * 3 + k] = c.Pixels[((y0 + y / scale) * c.Width + x0 + x / scale) * 3 + k];
        return r;
    }

    private static RgbCanvas Scale(RgbCanvas c, int scale) => Crop(c, 0, 0, c.Width, c.Height, scale);

    private static byte[] Png(RgbCanvas c)
    {
        using var image = ImageBuffer.FromSamples<byte>(c.Width, c.Height, 3, c.Pixels);
        return PngCodec.Encode(image);
    }
}
